import type { RosterEvent } from '@roster/contracts';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import { claimInbox } from '@roster/platform/inbox';
import { recordStep } from '@roster/platform/steps';

export interface Reaction {
  /** Cascade step name when the catalogue expects notifications' step for this event (B4); none otherwise. */
  step?: string;
  counts: Record<string, number>;
  detail?: string;
}

/**
 * One inbox-guarded transaction per event (rule 2): the messages it queues, its projection
 * changes and its cascade step commit together or not at all, so a redelivered event queues nothing.
 * Returns false when the event was handled before.
 */
export async function react(db: SqlClient, event: RosterEvent, effect: (tx: SqlTx) => Promise<Reaction>): Promise<boolean> {
  const started = performance.now();
  return db.$transaction(async (tx) => {
    if (!(await claimInbox(tx, 'notifications', event))) return false;
    const r = await effect(tx);
    if (r.step) {
      const touched = Object.values(r.counts).some((n) => n > 0);
      await recordStep(tx, {
        service: 'notifications', step: r.step, outcome: touched ? 'applied' : 'no_change', counts: r.counts, startedAt: started, cause: event,
        detail: r.detail ?? null,
      });
    }
    return true;
  });
}
