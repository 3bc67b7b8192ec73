import type { SubscriptionOptions } from '@roster/platform/bus/types';
import type { DirectoryContext } from '../context.js';
import { acceptInvitation } from './accepted.js';

/** P8: identity's `invitation.accepted` → the person joins the account (or is created). */
export const invitationAcceptedSubscription = (ctx: DirectoryContext): Omit<SubscriptionOptions, 'group'> => ({
  types: ['invitation.accepted'],
  handler: async (event) => {
    if (event.type !== 'invitation.accepted') return;
    ctx.logger.info({ invitationId: event.data.invitationId, personId: event.data.personId, newPerson: event.data.newPerson }, 'invitation accepted');
    await acceptInvitation(ctx.prisma, event);
    ctx.relay.nudge();
  },
});
