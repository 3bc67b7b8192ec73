import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { startService, type RunningService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { DirectoryDb } from '../src/db/client.js';
import { recordCascadeSteps } from '../src/operations/operations.js';
import { directoryService } from '../src/service.js';

const KEY = 'operator-key-for-tests';

// B4: the operation status is built from cascade.step.completed, once per event, within its tenant.
describe('operation status from cascade steps (directory, Postgres)', () => {
  let database: TestDatabase;
  let directory: RunningService<DirectoryDb>;
  const bus = new MemoryBus();
  beforeAll(async () => {
    database = await createTestDatabase('roster_operations');
    directory = await startService(directoryService, {
      bus, env: { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', ROSTER_OPERATOR_KEY: KEY, LOG_LEVEL: 'silent' },
    });
  });
  afterAll(async () => {
    await directory?.stop();
    await database?.drop();
  });

  const step = (tenantId: string, operationId: string, service: 'identity' | 'scheduling' | 'notifications') =>
    createEvent(service, {
      type: 'cascade.step.completed', subject: operationId, tenantId, correlationId: operationId,
      data: {
        operationId, service, step: 'send_credentials', outcome: 'applied', counts: { messages: 1 }, durationMs: 3,
        causeEventId: randomUUID(), causeType: 'login.granted', dryRun: false, detail: null,
      },
    });
  const read = async (tenantId: string, operationId: string) => {
    const res = await fetch(`${directory.url}/operations/${operationId}`, { headers: { 'x-operator-key': KEY, 'x-roster-tenant': tenantId } });
    return { status: res.status, body: (await res.json()) as { status: string; steps: unknown[]; expected: string[] } };
  };

  it('records a step delivered three times once, and completes a cascade started elsewhere when its expected steps are in', async () => {
    const tenantId = randomUUID();
    const operationId = randomUUID();
    const event = step(tenantId, operationId, 'notifications');
    await bus.publish([event]);
    await Promise.all([bus.publish([event]), bus.publish([event])]);
    const op = await waitFor('the operation', async () => {
      const r = await read(tenantId, operationId);
      return r.status === 200 && r.body.status === 'completed' ? r.body : null;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(op.expected, ['notifications'], 'login.granted waits for notifications (catalogue)');
    assert.equal((await read(tenantId, operationId)).body.steps.length, 1);
  });

  it("issue 16 item 3: every step's cause and follow-ups are awaited, whatever order the steps arrive in", async () => {
    const tenantId = randomUUID();
    const operationId = randomUUID();
    const deactivation = randomUUID();
    const unassigned = randomUUID();
    const stepOf = (service: 'identity' | 'scheduling' | 'notifications', causeEventId: string, causeType: string, followUps?: { id: string; type: string }[]) =>
      createEvent(service, {
        type: 'cascade.step.completed', subject: operationId, tenantId, correlationId: operationId,
        data: {
          operationId, service, step: `${service}_${causeType}`, outcome: 'applied', counts: { n: 1 }, durationMs: 1,
          causeEventId, causeType, dryRun: false, detail: null, ...(followUps ? { followUps } : {}),
        },
      });
    type Progress = { status: string; waitingFor: string[]; progress: Record<string, { reported: number; expected: number }> };
    const progressOf = async () => (await read(tenantId, operationId)).body as unknown as Progress;
    // The follow-up's step arrives first (a cascade first seen through it), then identity's and notifications' of the deactivation.
    await bus.publish([stepOf('notifications', unassigned, 'visits.unassigned')]);
    await bus.publish([stepOf('identity', deactivation, 'user.deactivated'), stepOf('notifications', deactivation, 'user.deactivated')]);
    const waiting = await waitFor('three steps', async () => {
      const p = await progressOf();
      return p.progress?.notifications?.reported === 2 && p.progress.identity?.reported === 1 ? p : null;
    });
    assert.deepEqual([waiting.status, waiting.waitingFor], ['pending', ['scheduling']], 'nothing else stands in for the missing step');
    await bus.publish([stepOf('scheduling', deactivation, 'user.deactivated', [{ id: unassigned, type: 'visits.unassigned' }])]);
    const op = await waitFor('the operation', async () => {
      const p = await progressOf();
      return p.status === 'completed' ? p : null;
    });
    assert.deepEqual(op.progress.notifications, { reported: 2, expected: 2 }, "the deactivation's step and the follow-up's");
  });

  it('issue 16 item 3: an operation whose follow-up step has not come is still pending', async () => {
    const tenantId = randomUUID();
    const operationId = randomUUID();
    const deactivation = randomUUID();
    const stepOf = (service: 'identity' | 'scheduling' | 'notifications', followUps?: { id: string; type: string }[]) =>
      createEvent(service, {
        type: 'cascade.step.completed', subject: operationId, tenantId, correlationId: operationId,
        data: {
          operationId, service, step: `${service}_step`, outcome: 'applied', counts: { n: 1 }, durationMs: 1,
          causeEventId: deactivation, causeType: 'user.deactivated', dryRun: false, detail: null, ...(followUps ? { followUps } : {}),
        },
      });
    await bus.publish([stepOf('identity'), stepOf('notifications'), stepOf('scheduling', [{ id: randomUUID(), type: 'visits.unassigned' }])]);
    const op = await waitFor('three steps', async () => {
      const r = await read(tenantId, operationId);
      return r.body.steps?.length === 3 ? (r.body as unknown as { status: string; waitingFor: string[] }) : null;
    });
    assert.deepEqual([op.status, op.waitingFor], ['pending', ['notifications']]);
  });

  it("never shows a tenant another tenant's operation, nor lets a step cross tenants", async () => {
    const owner = randomUUID();
    const operationId = randomUUID();
    await bus.publish([step(owner, operationId, 'notifications')]);
    await waitFor('the operation', async () => (await read(owner, operationId)).status === 200);
    assert.equal((await read(randomUUID(), operationId)).status, 404);
    await bus.publish([step(randomUUID(), operationId, 'identity')]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await read(owner, operationId)).body.steps.length, 1, 'the foreign step was ignored');
  });

  it('answers a malformed operation id with a 400 naming the parameter', async () => {
    const res = await fetch(`${directory.url}/operations/not-a-uuid`, { headers: { 'x-operator-key': KEY, 'x-roster-tenant': randomUUID() } });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
    assert.match(((await res.json()) as { detail: string }).detail, /^params/);
  });
  it('issue 19: a run of steps in one statement records what one by one would: steps of its tenant only, follow-ups awaited, a new operation created', async () => {
    const tenantId = randomUUID();
    const known = randomUUID();
    await bus.publish([step(tenantId, known, 'notifications')]);
    await waitFor('the operation', async () => (await read(tenantId, known)).status === 200);
    const unassigned = randomUUID();
    const many = Array.from({ length: 30 }, () => step(tenantId, known, 'notifications'));
    const withFollowUp = createEvent('scheduling', {
      type: 'cascade.step.completed', subject: known, tenantId, correlationId: known,
      data: {
        operationId: known, service: 'scheduling', step: 'unassign_upcoming_visits', outcome: 'applied', counts: { visits: 2 }, durationMs: 1,
        causeEventId: randomUUID(), causeType: 'user.deactivated', dryRun: false, detail: null, followUps: [{ id: unassigned, type: 'visits.unassigned' }],
      },
    });
    const foreign = step(randomUUID(), known, 'notifications'); // another tenant naming this operation
    const fresh = randomUUID();
    await directory.ctx.prisma.$transaction((tx) => recordCascadeSteps(tx, [...many, withFollowUp, foreign, step(tenantId, fresh, 'notifications')]));
    const count = async (sql: string, ...params: unknown[]) =>
      (await directory.ctx.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM (${sql}) q`, ...params))[0]!.n;
    assert.equal(await count('SELECT 1 FROM operation_step WHERE operation_id = $1::uuid', known), 32, 'the first step, the 30, the follow-up step; not the foreign one');
    assert.equal(await count("SELECT 1 FROM operation_awaited WHERE operation_id = $1::uuid AND event_id = $2 AND service = 'notifications'", known, unassigned), 1, 'the follow-up awaits notifications');
    assert.equal(await count('SELECT 1 FROM operation_step WHERE operation_id = $1::uuid', fresh), 1, 'a step of an operation not seen yet takes the slow path');
    assert.equal((await read(tenantId, fresh)).body.status, 'completed');
  });
});
