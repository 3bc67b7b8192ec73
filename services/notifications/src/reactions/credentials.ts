import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally } from '../messages/enqueue.js';
import { SECRET_USE } from '../messages/sender.js';
import { findPerson, type Person } from '../people/recipients.js';
import { DEFAULT_TEMPLATES } from '../templates/defaults.js';
import type { Reaction } from './react.js';

/**
 * L4, L5: the credentials message of `login.granted`, or the new password of `password.reset`
 * (reason new_password), to the address identity chose. The password stays sealed in the queue
 * row (rule 5); the sender opens it, renders, sends and drops it.
 */
export async function queueCredentials(tx: SqlTx, event: EventOf<'login.granted'> | EventOf<'password.reset'>, publicUrl: string): Promise<Reaction> {
  const d = event.data;
  if (d.username) {
    await tx.$executeRawUnsafe(
      `INSERT INTO login_projection (person_id, tenant_id, username) VALUES ($1::uuid, $2::uuid, $3)
       ON CONFLICT (person_id) DO UPDATE SET username = EXCLUDED.username WHERE login_projection.tenant_id = EXCLUDED.tenant_id`,
      d.personId, event.tenantid, d.username,
    );
  }
  const step = event.type === 'login.granted' ? 'send_credentials' : 'send_new_password';
  if (event.type === 'password.reset' && event.data.reason !== 'new_password') {
    return { step, counts: { messages: 0 }, detail: `nothing to deliver for a password ${event.data.reason}` };
  }
  if (!d.delivery) return { step, counts: { messages: 0 }, detail: 'no message was requested' };
  const person = await findPerson(tx, event.tenantid, d.personId);
  // The event names the login (password.reset from version 2); the projection serves older events.
  const username = d.username ?? (await tx.$queryRawUnsafe<{ username: string }[]>(
    'SELECT username FROM login_projection WHERE person_id = $1::uuid AND tenant_id = $2::uuid', d.personId, event.tenantid,
  ))[0]?.username;
  const fallback = event.type === 'password.reset' ? 'new_password' : person?.kind === 'client' ? 'client_login_credentials' : 'staff_login_credentials';
  const template = DEFAULT_TEMPLATES.has(d.delivery.template) ? d.delivery.template : fallback;
  const outcome = await enqueueMessage(tx, {
    tenantId: event.tenantid, cause: event, template, channel: d.delivery.channel, recipientPersonId: d.personId, to: d.delivery.to,
    variables: {
      firstName: person?.firstName ?? '', lastName: person?.lastName ?? '',
      // Unknown (an old event about a login this service never saw): left out, so the sender fills it from
      // the projection or the message fails as unrenderable; never an e-mail that names no username.
      ...(username ? { username } : {}), expiresAt: d.expiresAt ?? '', loginUrl: `${publicUrl}/account`,
      // A permanent password chosen by the admin is not ours to send: the message says so.
      ...(d.secret ? { [SECRET_USE]: 'password' } : { password: '(the password your administrator gave you)' }),
    },
    sealedSecret: d.secret,
  });
  const notice = await noticeAtAddressOnFile(tx, event, person, username, d.delivery);
  return { step, counts: tally(notice ? [outcome, notice] : [outcome]) };
}

/**
 * Credentials sent to an address that is not the person's (`sendTo`, issue 15): the person is told
 * at the e-mail address on file, so that a takeover does not go unnoticed.
 */
async function noticeAtAddressOnFile(
  tx: SqlTx, event: EventOf<'login.granted'> | EventOf<'password.reset'>, person: Person | null, username: string | undefined, delivery: { to: string },
) {
  const onFile = [person?.email, person?.phone].filter(Boolean).map((a) => a!.toLowerCase());
  if (!person?.email || onFile.includes(delivery.to.toLowerCase())) return null;
  return enqueueMessage(tx, {
    tenantId: event.tenantid, cause: event, template: 'credentials_sent_elsewhere', channel: 'email', recipientPersonId: person.id, to: person.email,
    variables: { firstName: person.firstName ?? '', ...(username ? { username } : {}), sentTo: delivery.to },
  });
}
