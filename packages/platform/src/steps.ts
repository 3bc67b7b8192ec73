import { expectedStepsFor, isEventType, type EventEnvelope, type EventOf, type ServiceName } from '@roster/contracts';
import type { SqlTx } from './db/database.js';
import { observeCascadeStep } from './metrics.js';
import { eventFor, eventsStagedIn, stageEvents } from './outbox.js';

export interface CascadeStep {
  service: ServiceName;
  /** What the step did, in business words: `unassign_future_visits`, `revoke_sessions` ... */
  step: string;
  outcome: 'applied' | 'no_change' | 'previewed' | 'stale_ignored' | 'failed';
  counts: Record<string, number>;
  startedAt: number;
  cause: EventEnvelope;
  dryRun?: boolean;
  detail?: string | null;
}

/**
 * The events this transaction staged because of `cause` (their causation id) that other services
 * report steps for: the operation awaits those too (issue 16 item 3).
 */
function followUpsOf(tx: SqlTx, cause: EventEnvelope): { id: string; type: string }[] {
  return eventsStagedIn(tx)
    .filter((e) => e.causationid === cause.id && e.correlationid === cause.correlationid && isEventType(e.type) && expectedStepsFor(e.type).length > 0)
    .map((e) => ({ id: e.id, type: e.type }));
}

/**
 * A service's step of a cascade (rule 9, B4) as the `cascade.step.completed` event to stage in the
 * handler's own transaction, so that the step is reported if and only if its effects committed.
 * Build it after the step's effects: it names the events they staged (`followUps`).
 */
export function stepEventOf(tx: SqlTx, s: CascadeStep): EventOf<'cascade.step.completed'> {
  const durationMs = Math.max(0, performance.now() - s.startedAt);
  const followUps = followUpsOf(tx, s.cause);
  const event = eventFor(s.service, {
    type: 'cascade.step.completed',
    subject: s.cause.correlationid,
    tenantId: s.cause.tenantid,
    correlationId: s.cause.correlationid,
    data: {
      operationId: s.cause.correlationid,
      service: s.service,
      step: s.step,
      outcome: s.outcome,
      counts: s.counts,
      durationMs,
      causeEventId: s.cause.id,
      causeType: s.cause.type,
      dryRun: s.dryRun ?? false,
      detail: s.detail ?? null,
      ...(followUps.length > 0 ? { followUps } : {}),
    },
  });
  // Observed when built: a step is a handler's last write, so a rollback after it is rare (and the
  // redelivery that follows is observed again).
  observeCascadeStep(s.service, s.step, s.outcome, durationMs / 1000);
  return event;
}

/** Records a service's step of a cascade: `stepEventOf`, staged at once. */
export async function recordStep(tx: SqlTx, s: CascadeStep): Promise<void> {
  await stageEvents(tx, [stepEventOf(tx, s)]);
}
