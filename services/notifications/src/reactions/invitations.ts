import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally } from '../messages/enqueue.js';
import { SECRET_USE } from '../messages/sender.js';
import { fireMonitors } from '../monitors/monitors.js';
import { accountName } from '../people/recipients.js';
import type { Reaction } from './react.js';

/**
 * P8: the invitation link by SMS or e-mail (a resend is a new event, hence a new message). The
 * token stays sealed in the queue row; the sender builds `${PUBLIC_URL}/invitations/<token>/accept`.
 */
export async function queueInvitation(tx: SqlTx, event: EventOf<'invitation.created'>): Promise<Reaction> {
  const d = event.data;
  const account = await accountName(tx, event.tenantid, d.accountId);
  const to = d.channel === 'sms' ? d.invitee.phone : d.invitee.email;
  const outcome = await enqueueMessage(tx, {
    tenantId: event.tenantid, cause: event, template: d.channel === 'sms' ? 'invitation_sms' : 'invitation_email', channel: d.channel,
    recipientPersonId: null, to,
    variables: {
      firstName: d.invitee.firstName, lastName: d.invitee.lastName, accountName: account, roleKey: d.roleKey, expiresAt: d.expiresAt,
      [SECRET_USE]: 'invitation_link',
    },
    sealedSecret: d.token,
  });
  await fireMonitors(tx, event, `${d.invitee.firstName} ${d.invitee.lastName} was ${d.resend ? 'invited again' : 'invited'} to ${account} as ${d.roleKey}.`);
  return {
    step: 'send_invitation', counts: tally([outcome]),
    ...(outcome === 'no_address' ? { detail: `the invitee has no ${d.channel === 'sms' ? 'phone number' : 'e-mail address'}` } : {}),
  };
}
