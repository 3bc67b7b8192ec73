import type { EventOf, RosterEvent } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { claimInbox } from '@roster/platform/inbox';
import { advancePersonProjection, PERSON_EVENT_TYPES, type PersonEvent, type PersonEventType } from '@roster/platform/people-projection';
import { recordStep } from '@roster/platform/steps';
import type { SchedulingContext } from '../service.js';
import { keepVisitsAsTheyAre, previewReleaseOfVisits, releaseVisitsOfDepartedPerson, type StepResult } from '../visits/cascade.js';
import { recordAccessChange, recordAccount, recordClientAssignment, recordProfile } from './projection.js';

/**
 * Scheduling's person lifecycle handling: the platform's `personLifecycleSubscription` shape
 * (inbox claim, versioned projection, effect and cascade step in one transaction per event;
 * stale versions ignored with a `stale_ignored` step, rule 3), extended with what scheduling
 * needs: names and memberships in the projection, a step detail (reactivation says that
 * nothing comes back), and bulk events staged by the effect itself.
 */
const EFFECTS: Partial<Record<PersonEventType, (tx: SqlTx, e: PersonEvent) => Promise<StepResult>>> = {
  'user.deactivated': releaseVisitsOfDepartedPerson,
  'user.archived': releaseVisitsOfDepartedPerson,
  'user.reactivated': keepVisitsAsTheyAre,
  'user.restored': keepVisitsAsTheyAre,
};

export const CONSUMED_TYPES = [
  ...PERSON_EVENT_TYPES, 'cascade.preview_requested', 'access.granted', 'access.revoked', 'role.changed', 'client.assigned', 'account.created',
] as const;

const isPersonEvent = (e: RosterEvent): e is PersonEvent => (PERSON_EVENT_TYPES as string[]).includes(e.type);

/** What handling an event needs of the service (the bench drives it without HTTP or bus). */
export type EventHandlingContext = Pick<SchedulingContext, 'prisma' | 'logger' | 'relay'>;

/** Applies one consumed event: the handler's single command. Returns false when the inbox already had it. */
export async function applySchedulingEvent(ctx: EventHandlingContext, event: RosterEvent): Promise<boolean> {
  const started = performance.now();
  // Large cascades (100,000 visits) take seconds; Prisma's default 5 s transaction timeout is too tight.
  const handled = await ctx.prisma.$transaction(async (tx) => {
    if (!(await claimInbox(tx, 'scheduling', event))) return false;
    if (event.type === 'cascade.preview_requested') {
      const r = await previewReleaseOfVisits(tx, event);
      await recordStep(tx, { service: 'scheduling', ...r, outcome: 'previewed', startedAt: started, cause: event, dryRun: true });
      return true;
    }
    if (isPersonEvent(event)) {
      const fresh = await advancePersonProjection(tx, event);
      await recordProfile(tx, event, fresh);
      const effect = EFFECTS[event.type];
      if (!effect) return true;
      if (!fresh) {
        ctx.logger.info({ eventId: event.id, type: event.type, version: event.subjectversion }, 'stale person event ignored');
        const step = event.type === 'user.deactivated' || event.type === 'user.archived' ? 'unassign_upcoming_visits' : 'keep_visits_unchanged';
        await recordStep(tx, {
          service: 'scheduling', step, outcome: 'stale_ignored', counts: {}, startedAt: started, cause: event,
          detail: 'a newer version of the person was already applied',
        });
        return true;
      }
      const r = await effect(tx, event);
      const touched = Object.values(r.counts).some((n) => n > 0);
      await recordStep(tx, { service: 'scheduling', ...r, outcome: touched ? 'applied' : 'no_change', startedAt: started, cause: event });
      return true;
    }
    if (event.type === 'access.granted' || event.type === 'access.revoked' || event.type === 'role.changed') {
      await recordAccessChange(tx, event as EventOf<'access.granted' | 'access.revoked' | 'role.changed'>);
    } else if (event.type === 'client.assigned') {
      await recordClientAssignment(tx, event);
    } else if (event.type === 'account.created') {
      await recordAccount(tx, event);
    }
    return true;
  }, { timeout: 120_000, maxWait: 10_000 });
  ctx.relay.nudge();
  return handled;
}
