import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import type { EventEnvelope, EventOf } from '@roster/contracts';
import { runInWork } from '../src/context.js';
import type { SqlTx } from '../src/db/database.js';
import { eventFor, noteStagedEvents, stageEvents } from '../src/outbox.js';
import { recordStep } from '../src/steps.js';
import { deactivation } from './support/events.js';

/** A transaction that keeps the outbox rows it is given (what recordStep and stageEvents write). */
function fakeTx(): { tx: SqlTx; staged: EventEnvelope[] } {
  const staged: EventEnvelope[] = [];
  // One event: (id, type, subject, envelope); many: one JSON array of envelopes.
  const tx = {
    $executeRawUnsafe: async (_sql: string, ...params: unknown[]) =>
      void staged.push(...(params.length === 1 ? JSON.parse(params[0] as string) as EventEnvelope[] : [JSON.parse(params[3] as string) as EventEnvelope])),
  };
  return { tx: tx as unknown as SqlTx, staged };
}

// Issue 16 item 3: a step names the events its effects caused, so the operation awaits their steps too.
describe('cascade steps name their follow-ups', () => {
  it('lists the events staged in the same transaction because of the cause, that someone reports steps for', async () => {
    const cause = deactivation('sitter-1');
    const { tx, staged } = fakeTx();
    const other = fakeTx();
    await runInWork({ correlationId: cause.correlationid, causationId: cause.id, tenantId: cause.tenantid }, async () => {
      const unassigned = eventFor('scheduling', {
        type: 'visits.unassigned', subject: 'sitter-1',
        data: { sitterId: 'sitter-1', visitCount: 3, visitIds: ['v1', 'v2', 'v3'], chunk: { index: 0, total: 1 }, defaultSitterClearedFor: 0 },
      });
      const revoked = eventFor('identity', {
        type: 'sessions.revoked', subject: 'sitter-1',
        data: { personId: 'sitter-1', notBefore: new Date().toISOString(), reason: 'deactivated', sessionCount: 0 },
      });
      await stageEvents(tx, [unassigned, revoked]); // sessions.revoked: nobody reports a step for it
      noteStagedEvents(tx, [{ ...unassigned, id: 'bulk-chunk-2' }]); // written by a bulk statement
      await stageEvents(other.tx, [{ ...unassigned, id: 'another-transaction' }]);
      await recordStep(tx, { service: 'scheduling', step: 'unassign_upcoming_visits', outcome: 'applied', counts: { visitsUnassigned: 3 }, startedAt: performance.now(), cause });
      const step = staged.at(-1) as EventOf<'cascade.step.completed'>;
      assert.equal(step.type, 'cascade.step.completed');
      assert.deepEqual(step.data.followUps, [{ id: unassigned.id, type: 'visits.unassigned' }, { id: 'bulk-chunk-2', type: 'visits.unassigned' }]);
    });
  });

  it('says nothing of follow-ups when the step caused none that are awaited', async () => {
    const cause = deactivation('sitter-2');
    const { tx, staged } = fakeTx();
    await recordStep(tx, { service: 'identity', step: 'refuse_logins', outcome: 'applied', counts: { peopleBlocked: 1 }, startedAt: performance.now(), cause });
    assert.equal('followUps' in (staged[0] as EventOf<'cascade.step.completed'>).data, false);
  });
});
