import type { RosterEvent } from '@roster/contracts';
import type { SubscriptionOptions } from '@roster/platform/bus/types';
import type { NotificationsContext } from '../context.js';
import { handlePersonEvent, PERSON_TYPES, recordAccount } from '../people/projection.js';
import { reactToAccessChange, reactToRoleChange } from '../reactions/access.js';
import { queueCredentials } from '../reactions/credentials.js';
import { queueInvitation } from '../reactions/invitations.js';
import { react } from '../reactions/react.js';
import { tellClientOfAnswer, tellMonitorsOfRequest } from '../reactions/requests.js';
import { sendDailySchedule, tellManagersVisitsNeedSitter } from '../reactions/visits.js';
import { startRuntime } from '../runtime.js';

/** What notifications consumes (from the catalogue's consumers). Handlers log and call one command. */
export function notificationsSubscriptions(ctx: NotificationsContext): Omit<SubscriptionOptions, 'group'>[] {
  const runtime = startRuntime(ctx);
  const db = ctx.prisma;
  const afterCommit = () => {
    ctx.relay.nudge();
    runtime.sender.nudge();
  };
  const log = (event: RosterEvent) => ctx.logger.debug({ eventId: event.id, type: event.type }, 'handling');

  return [
    {
      types: PERSON_TYPES,
      handler: async (event) => {
        log(event);
        await handlePersonEvent(db, ctx.logger, event);
        afterCommit();
      },
    },
    {
      types: ['login.granted', 'password.reset', 'access.granted', 'access.revoked', 'role.changed', 'account.created', 'invitation.created', 'visits.unassigned', 'schedule.digest',
        'request.submitted', 'request.approved', 'request.declined'],
      handler: async (event) => {
        log(event);
        switch (event.type) {
          case 'login.granted':
          case 'password.reset':
            await react(db, event, (tx) => queueCredentials(tx, event, ctx.config.publicUrl));
            break;
          case 'access.granted':
          case 'access.revoked':
            await react(db, event, (tx) => reactToAccessChange(tx, event));
            break;
          case 'role.changed':
            await react(db, event, (tx) => reactToRoleChange(tx, event));
            break;
          case 'account.created':
            await recordAccount(db, event);
            break;
          case 'invitation.created':
            await react(db, event, (tx) => queueInvitation(tx, event));
            break;
          case 'visits.unassigned':
            await react(db, event, (tx) => tellManagersVisitsNeedSitter(tx, event));
            break;
          case 'schedule.digest':
            await react(db, event, (tx) => sendDailySchedule(tx, event));
            break;
          case 'request.submitted':
            await react(db, event, (tx) => tellMonitorsOfRequest(tx, event, ctx.config.schedulingPublicUrl));
            break;
          case 'request.approved':
          case 'request.declined':
            await react(db, event, (tx) => tellClientOfAnswer(tx, event));
            break;
          default:
            return;
        }
        afterCommit();
      },
    },
  ];
}
