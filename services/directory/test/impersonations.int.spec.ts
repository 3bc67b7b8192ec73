import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import type { DeadLetter } from '@roster/platform/bus/types';
import { startService, type RunningService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { DirectoryDb } from '../src/db/client.js';
import { directoryService } from '../src/service.js';

// Issue 16 item 4 (L7, B5): identity's impersonation events on the audit trail of both people, once
// however often they are delivered; a malformed one goes to the dead letters with its reason.
describe('impersonations on the audit trail (directory, Postgres)', () => {
  let database: TestDatabase;
  let directory: RunningService<DirectoryDb>;
  const bus = new MemoryBus();
  beforeAll(async () => {
    database = await createTestDatabase('roster_impersonations');
    directory = await startService(directoryService, { bus, env: { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: 'silent' } });
  });
  afterAll(async () => {
    await directory?.stop();
    await database?.drop();
  });

  it('a start delivered three times writes one entry for each of the two people; an end adds one more each', async () => {
    const tenantId = randomUUID();
    const [personId, impersonatorId, impersonationId] = [randomUUID(), randomUUID(), randomUUID()];
    const actor = { kind: 'person', personId: impersonatorId, impersonatorId: null } as const;
    const started = createEvent('identity', {
      type: 'impersonation.started', subject: personId, tenantId, correlationId: randomUUID(),
      data: { impersonationId, personId, impersonatorId, reason: 'checking her calendar', expiresAt: new Date().toISOString(), actor },
    });
    await bus.publish([started]);
    await Promise.all([bus.publish([started]), bus.publish([started])]);
    const entries = () => directory.ctx.prisma.auditEntry.findMany({ where: { tenantId }, orderBy: { seq: 'asc' } });
    await waitFor('the two entries', async () => (await entries()).length === 2 || null);
    const ended = createEvent('identity', {
      type: 'impersonation.ended', subject: personId, tenantId, correlationId: randomUUID(),
      data: { impersonationId, personId, impersonatorId, endedBy: 'expiry', endedAt: new Date().toISOString(), actor: { kind: 'system', personId: null, impersonatorId: null } },
    });
    await bus.publish([ended, ended]);
    const all = await waitFor('four entries', async () => { const e = await entries(); return e.length === 4 ? e : null; });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await entries()).length, 4, 'no entry twice');
    assert.deepEqual(all.map((e) => [e.action, e.subjectId, (e.detail as { role: string }).role]).sort(), [
      ['impersonation.ended', impersonatorId, 'impersonator'], ['impersonation.ended', personId, 'impersonated'],
      ['impersonation.started', impersonatorId, 'impersonator'], ['impersonation.started', personId, 'impersonated'],
    ].sort());
  });

  it('an impersonation event that breaks its schema is dead-lettered with the reason and writes nothing', async () => {
    const tenantId = randomUUID();
    const bad = {
      ...createEvent('identity', {
        type: 'impersonation.started', subject: randomUUID(), tenantId, correlationId: randomUUID(),
        data: { impersonationId: randomUUID(), personId: randomUUID(), impersonatorId: randomUUID(), reason: 'x', expiresAt: new Date().toISOString(), actor: { kind: 'system', personId: null, impersonatorId: null } },
      }),
    };
    (bad.data as { reason: unknown }).reason = 42;
    const dead: DeadLetter[] = [];
    const listening = await bus.consumeDeadLetters('directory', async (d) => void dead.push(d));
    await bus.publish([bad as never]);
    const letter = await waitFor('the dead letter', () => dead.find((d) => d.eventId === bad.id) ?? null);
    await listening.close();
    assert.match(letter.reason, /reason/);
    assert.equal(await directory.ctx.prisma.auditEntry.count({ where: { tenantId } }), 0);
  });
});
