import type { SubscriptionOptions } from '@roster/platform/bus/types';
import { personLifecycleSubscription } from '@roster/platform/people-projection';
import type { IdentityContext } from '../service.js';
import { refuseLoginsOfInactivePerson, allowLoginsAgain } from '../people/cascade.js';

/** What identity consumes (from the catalogue's consumers). Handlers log and call one command. */
export function identitySubscriptions(ctx: IdentityContext): Omit<SubscriptionOptions, 'group'>[] {
  return [
    personLifecycleSubscription({
      service: 'identity',
      db: ctx.prisma,
      logger: ctx.logger,
      afterCommit: () => ctx.relay.nudge(),
      effects: { 'user.deactivated': refuseLoginsOfInactivePerson, 'user.reactivated': allowLoginsAgain },
      previews: { deactivate: refuseLoginsOfInactivePerson },
    }),
  ];
}
