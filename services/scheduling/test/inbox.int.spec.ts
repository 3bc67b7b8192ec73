import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { startService, type RunningService } from '@roster/platform/service';
import type { SchedulingDb } from '../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { schedulingService } from '../src/service.js';
import { waitForNoSessions } from './support/harness.js';

// Rule 2: consumers are idempotent through an inbox kept in the handler's transaction.
describe('inbox: every event delivered three times has its effect once (scheduling, Postgres)', () => {
  let database: TestDatabase;
  let scheduling: RunningService<SchedulingDb>;
  const bus = new MemoryBus();
  const steps: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('roster_inbox');
    await bus.subscribe({ group: 'watcher', types: ['cascade.step.completed'], handler: async (e) => void steps.push(e.id) });
    scheduling = await startService(schedulingService, {
      bus, env: { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: 'silent' },
    });
  });
  afterAll(async () => {
    await scheduling?.stop();
    if (database) await waitForNoSessions(database.name);
    await database?.drop();
  });

  it('unassigns the visits and reports the step once, however often user.deactivated arrives', async () => {
    const tenantId = randomUUID();
    const sitterId = randomUUID();
    const db = scheduling.ctx.prisma;
    for (let i = 1; i <= 4; i++) {
      const startsAt = new Date(Date.now() + i * 86_400_000);
      await db.visit.create({
        data: { id: randomUUID(), tenantId, clientId: randomUUID(), startsAt, endsAt: new Date(startsAt.getTime() + 3_600_000), assignment: { create: { tenantId, sitterId, startsAt } } },
      });
    }
    const deactivated = createEvent('directory', {
      type: 'user.deactivated', subject: sitterId, tenantId, correlationId: randomUUID(), subjectVersion: 2,
      data: { personId: sitterId, kind: 'staff', roleKeys: ['staff'], reason: null, actor: { kind: 'system', personId: null, impersonatorId: null } },
    });
    // The same event, three times, two of them at once (the way a redelivery after a lost ack looks).
    await bus.publish([deactivated]);
    await Promise.all([bus.publish([deactivated]), bus.publish([deactivated])]);

    await waitFor('the step', () => steps.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(steps.length, 1, 'one cascade step, not three');
    const inbox = await db.inboxMessage.findMany({ where: { eventId: deactivated.id } });
    assert.equal(inbox.length, 1);
    assert.equal(await db.visitAssignment.count({ where: { sitterId } }), 0);
    assert.equal(await db.visit.count({ where: { tenantId } }), 4, 'the visits stay, without a sitter');
    const [step] = await db.$queryRawUnsafe<{ envelope: { data: { counts: Record<string, number> } } }[]>(
      "SELECT envelope FROM outbox WHERE type = 'cascade.step.completed'",
    );
    assert.deepEqual(step!.envelope.data.counts, { visitsUnassigned: 4, defaultSitterCleared: 0, schedulesWithoutSitter: 0 }, 'the count of the first (only) application');
  });
});
