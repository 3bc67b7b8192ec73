import { z } from 'zod';
import { id, personKind } from './common.js';
import { SERVICES } from '../envelope.js';

/** Impact preview (B1): each service reports what it would do, with no side effect. Subject: the person id. */
export const cascadePreviewRequested = z.object({
  action: z.enum(['deactivate', 'archive']),
  personId: id,
  kind: personKind,
  roleKeys: z.array(z.string().max(64)),
});

export const stepOutcome = z.enum(['applied', 'no_change', 'previewed', 'stale_ignored', 'failed']);

/**
 * One service finished its part of a cascade (rule 9, B4). Subject: the operation (correlation) id.
 * Directory folds these into `GET /operations/{id}`.
 */
export const cascadeStepCompleted = z.object({
  operationId: id,
  service: z.enum(SERVICES),
  /** What the step did, in business words: `unassign_future_visits`, `revoke_sessions` ... */
  step: z.string().min(1).max(64),
  outcome: stepOutcome,
  counts: z.record(z.string(), z.number().int().nonnegative()),
  durationMs: z.number().nonnegative(),
  causeEventId: id.max(128),
  causeType: z.string().max(64),
  dryRun: z.boolean(),
  detail: z.string().max(1000).nullable(),
  /**
   * Version 2 (issue 16 item 3): the events this step caused (staged in the same transaction,
   * caused by the same event) whose consumers report steps of their own. The operation then also
   * awaits those steps: it is completed only when every effect it caused, in every service, is
   * recorded. Absent in version 1 (nothing further awaited).
   */
  followUps: z.array(z.object({ id: id.max(128), type: z.string().max(64) })).max(1000).optional(),
});
