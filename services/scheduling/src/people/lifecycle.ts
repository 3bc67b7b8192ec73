import type { EventOf, RosterEvent } from '@roster/contracts';
import { claimInbox } from '@roster/platform/inbox';
import {
  applyPersonLifecycleEvent, isPersonEvent, PERSON_EVENT_TYPES, type CascadeEffect, type PersonLifecycle,
} from '@roster/platform/people-projection';
import type { SchedulingContext } from '../context.js';
import { keepVisitsAsTheyAre, previewReleaseOfVisits, releaseVisitsOfDepartedPerson, type StepResult } from '../visits/cascade.js';
import { recordAccessChange, recordAccount, recordRole, recordClientAssignment, recordProfile } from './projection.js';

/**
 * Scheduling's column of the cascade table on the platform's person lifecycle mechanism, plus
 * what only scheduling keeps: names and first memberships in the projection (`recordProfile`),
 * and memberships, client assignments and accounts handled in the same inbox-guarded transaction.
 */
const departure: CascadeEffect<StepResult> = {
  step: (e) => (e.data.kind === 'client' ? 'delete_upcoming_visits' : 'unassign_upcoming_visits'),
  apply: releaseVisitsOfDepartedPerson,
};
const comeback: CascadeEffect<StepResult> = { step: 'keep_visits_unchanged', apply: keepVisitsAsTheyAre };

export const CONSUMED_TYPES = [
  ...PERSON_EVENT_TYPES, 'cascade.preview_requested', 'access.granted', 'access.revoked', 'role.changed', 'client.assigned', 'account.created',
  'role.defined',
] as const;

/** What handling an event needs of the service (the bench drives it without HTTP or bus). */
export type EventHandlingContext = Pick<SchedulingContext, 'prisma' | 'logger' | 'relay'>;

const lifecycleOf = (ctx: EventHandlingContext): PersonLifecycle<StepResult> => ({
  service: 'scheduling',
  logger: ctx.logger,
  effects: { 'user.deactivated': departure, 'user.archived': departure, 'user.reactivated': comeback, 'user.restored': comeback },
  preview: previewReleaseOfVisits,
  recordProfile,
});

/** Applies one consumed event: the handler's single command. Returns false when the inbox already had it. */
export async function applySchedulingEvent(ctx: EventHandlingContext, event: RosterEvent): Promise<boolean> {
  const started = performance.now();
  // Large cascades (100,000 visits) take seconds; Prisma's default 5 s transaction timeout is too tight.
  const handled = await ctx.prisma.$transaction(async (tx) => {
    if (!(await claimInbox(tx, 'scheduling', event))) return false;
    if (event.type === 'cascade.preview_requested' || isPersonEvent(event)) {
      await applyPersonLifecycleEvent(tx, lifecycleOf(ctx), event, started);
      return true;
    }
    if (event.type === 'access.granted' || event.type === 'access.revoked' || event.type === 'role.changed') {
      await recordAccessChange(tx, event as EventOf<'access.granted' | 'access.revoked' | 'role.changed'>);
    } else if (event.type === 'client.assigned') {
      await recordClientAssignment(tx, event);
    } else if (event.type === 'account.created') {
      await recordAccount(tx, event);
    } else if (event.type === 'role.defined') {
      await recordRole(tx, event);
    }
    return true;
  }, { timeout: 120_000, maxWait: 10_000 });
  ctx.relay.nudge();
  return handled;
}
