import type { SubscriptionOptions } from '@roster/platform/bus/types';
import { personLifecycleSubscription } from '@roster/platform/people-projection';
import type { SchedulingContext } from '../service.js';
import { unassignOrDeleteUpcomingVisits, keepVisitsAsTheyAre } from '../visits/cascade.js';

/** What scheduling consumes (from the catalogue's consumers). Handlers log and call one command. */
export function schedulingSubscriptions(ctx: SchedulingContext): Omit<SubscriptionOptions, 'group'>[] {
  return [
    personLifecycleSubscription({
      service: 'scheduling',
      db: ctx.prisma,
      logger: ctx.logger,
      afterCommit: () => ctx.relay.nudge(),
      effects: { 'user.deactivated': unassignOrDeleteUpcomingVisits, 'user.reactivated': keepVisitsAsTheyAre },
      previews: { deactivate: unassignOrDeleteUpcomingVisits },
    }),
  ];
}
