import type { SubscriptionOptions } from '@roster/platform/bus/types';
import { personLifecycleSubscription } from '@roster/platform/people-projection';
import type { NotificationsContext } from '../service.js';
import { stopMessagesToPerson, resumeMessagesToPerson } from '../people/cascade.js';

/** What notifications consumes (from the catalogue's consumers). Handlers log and call one command. */
export function notificationsSubscriptions(ctx: NotificationsContext): Omit<SubscriptionOptions, 'group'>[] {
  return [
    personLifecycleSubscription({
      service: 'notifications',
      db: ctx.prisma,
      logger: ctx.logger,
      afterCommit: () => ctx.relay.nudge(),
      effects: { 'user.deactivated': stopMessagesToPerson, 'user.reactivated': resumeMessagesToPerson },
      previews: { deactivate: stopMessagesToPerson },
    }),
  ];
}
