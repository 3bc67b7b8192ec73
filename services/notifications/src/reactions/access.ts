import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally } from '../messages/enqueue.js';
import { fireMonitors } from '../monitors/monitors.js';
import { removeMembership, upsertMembership } from '../people/projection.js';
import { accountName, displayName, findPerson } from '../people/recipients.js';
import type { Reaction } from './react.js';

/** N3: access granted / revoked notices, and the membership projection the managers are found with. */
export async function reactToAccessChange(tx: SqlTx, event: EventOf<'access.granted'> | EventOf<'access.revoked'>): Promise<Reaction> {
  const d = event.data;
  const granted = event.type === 'access.granted';
  if (granted) await upsertMembership(tx, event.tenantid, d.personId, d.accountId, d.roleKey);
  else await removeMembership(tx, event.tenantid, d.personId, d.accountId);
  const person = await findPerson(tx, event.tenantid, d.personId);
  const account = await accountName(tx, event.tenantid, d.accountId);
  const outcomes = person?.status === 'active' && person.email
    ? [await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template: granted ? 'access_granted' : 'access_revoked', channel: 'email',
      recipientPersonId: d.personId, to: person.email, variables: { firstName: person.firstName ?? '', accountName: account, roleKey: d.roleKey },
    })]
    : [];
  await fireMonitors(tx, event, `${displayName(person)} ${granted ? 'got' : 'lost'} access to ${account} as ${d.roleKey}.`);
  // access.revoked expects notifications' step (catalogue); access.granted does not.
  return granted
    ? { counts: tally(outcomes) }
    : { step: 'send_access_revoked_notice', counts: tally(outcomes), ...(outcomes.length ? {} : { detail: 'no active person with an e-mail address to tell' }) };
}

export async function reactToRoleChange(tx: SqlTx, event: EventOf<'role.changed'>): Promise<Reaction> {
  await upsertMembership(tx, event.tenantid, event.data.personId, event.data.accountId, event.data.toRoleKey);
  return { counts: {} };
}
