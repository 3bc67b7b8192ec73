import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessages, tally, type MessageRequest } from '../messages/enqueue.js';
import { SECRET_USE } from '../messages/sender.js';
import { awaitPerson } from '../people/awaiting.js';
import { findPeople, type Person } from '../people/recipients.js';
import { DEFAULT_TEMPLATES } from '../templates/defaults.js';
import type { Reaction } from './react.js';

type CredentialsEvent = EventOf<'login.granted'> | EventOf<'password.reset'>;

const key = (tenantId: string, personId: string) => `${tenantId}/${personId.toLowerCase()}`;

/**
 * L4, L5: the credentials message of `login.granted`, or the new password of `password.reset`
 * (reason new_password), to the address identity chose. The password stays sealed in the queue
 * row (rule 5); the sender opens it, renders, sends and drops it. A run of such events is handled
 * set-based (issue 19): the logins, the recipients and the messages in one statement each.
 */
export async function queueCredentials(tx: SqlTx, events: readonly CredentialsEvent[], publicUrl: string): Promise<Reaction[]> {
  // The login each event names, the last per person (one statement).
  const logins = [...new Map(events.filter((e) => e.data.username).map((e) => [key(e.tenantid, e.data.personId), e])).values()];
  if (logins.length > 0) {
    await tx.$executeRawUnsafe(
      `INSERT INTO login_projection (person_id, tenant_id, username) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
       ON CONFLICT (person_id) DO UPDATE SET username = EXCLUDED.username WHERE login_projection.tenant_id = EXCLUDED.tenant_id`,
      logins.map((e) => e.data.personId), logins.map((e) => e.tenantid), logins.map((e) => e.data.username!),
    );
  }
  const delivering = events.filter((e) => e.data.delivery && !(e.type === 'password.reset' && e.data.reason !== 'new_password'));
  const people = await findPeople(tx, delivering.map((e) => ({ tenantId: e.tenantid, personId: e.data.personId })));
  const usernameOf = await loginNames(tx, delivering);

  const requests: MessageRequest[] = [];
  const unknownPeople: CredentialsEvent[] = [];
  const plans = events.map((event): Reaction | { step: string; first: number; count: number } => {
    const d = event.data;
    const step = event.type === 'login.granted' ? 'send_credentials' : 'send_new_password';
    if (event.type === 'password.reset' && event.data.reason !== 'new_password') {
      return { step, counts: { messages: 0 }, detail: `nothing to deliver for a password ${event.data.reason}` };
    }
    if (!d.delivery) return { step, counts: { messages: 0 }, detail: 'no message was requested' };
    const person = people.get(key(event.tenantid, d.personId)) ?? null;
    const username = usernameOf(event);
    const fallback = event.type === 'password.reset' ? 'new_password' : person?.kind === 'client' ? 'client_login_credentials' : 'staff_login_credentials';
    const first = requests.length;
    requests.push({
      tenantId: event.tenantid, cause: event, template: DEFAULT_TEMPLATES.has(d.delivery.template) ? d.delivery.template : fallback,
      channel: d.delivery.channel, recipientPersonId: d.personId, to: d.delivery.to,
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
    const notice = noticeAtAddressOnFile(event, person, username, d.delivery);
    if (notice) requests.push(notice);
    if (!person) unknownPeople.push(event);
    return { step, first, count: requests.length - first };
  });
  // The credentials go now, named at send time if the person is known by then; whether the address
  // on file must be told waits for the person (on Kafka, user.created comes in another topic).
  await awaitPerson(tx, ...unknownPeople.map(withoutSecret));
  const outcomes = await enqueueMessages(tx, requests);
  return plans.map((p) => ('first' in p ? { step: p.step, counts: tally(outcomes.slice(p.first, p.first + p.count)) } : p));
}

/** Credentials that waited for their person (`awaitPerson`), now that they are known: the notices at the addresses on file that are due. */
export async function tellAddressesOnFileOfAwaitedCredentials(tx: SqlTx, events: readonly CredentialsEvent[]): Promise<void> {
  const delivered = events.filter((e) => e.data.delivery);
  const people = await findPeople(tx, delivered.map((e) => ({ tenantId: e.tenantid, personId: e.data.personId })));
  const usernameOf = await loginNames(tx, delivered);
  const notices = delivered
    .map((e) => noticeAtAddressOnFile(e, people.get(key(e.tenantid, e.data.personId)) ?? null, usernameOf(e), e.data.delivery!))
    .filter((n): n is MessageRequest => n !== null);
  if (notices.length > 0) await enqueueMessages(tx, notices);
}

/**
 * The login each event is about: the one it names (password.reset from version 2), else the
 * projection's for older events (one statement for all of them).
 */
async function loginNames(tx: SqlTx, events: readonly CredentialsEvent[]): Promise<(event: CredentialsEvent) => string | undefined> {
  const unnamed = events.filter((e) => !e.data.username);
  const known = unnamed.length === 0 ? [] : await tx.$queryRawUnsafe<{ key: string; username: string }[]>(
    `SELECT l.tenant_id::text || '/' || l.person_id::text AS key, l.username FROM login_projection l
       JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON l.person_id = k.id AND l.tenant_id = k.t`,
    unnamed.map((e) => e.tenantid), unnamed.map((e) => e.data.personId),
  );
  const usernames = new Map(known.map((k) => [k.key, k.username]));
  return (event) => event.data.username ?? usernames.get(key(event.tenantid, event.data.personId));
}

/** The event as it may wait in a table: the sealed password is the message row's alone (rule 5). */
function withoutSecret(event: CredentialsEvent): CredentialsEvent {
  const { secret: _secret, ...data } = event.data;
  return { ...event, data } as CredentialsEvent;
}

/**
 * Credentials sent to an address that is not the person's (`sendTo`, issue 15): the person is told
 * at the e-mail address on file, so that a takeover does not go unnoticed.
 */
function noticeAtAddressOnFile(event: CredentialsEvent, person: Person | null, username: string | undefined, delivery: { to: string }): MessageRequest | null {
  const onFile = [person?.email, person?.phone].filter(Boolean).map((a) => a!.toLowerCase());
  if (!person?.email || onFile.includes(delivery.to.toLowerCase())) return null;
  return {
    tenantId: event.tenantid, cause: event, template: 'credentials_sent_elsewhere', channel: 'email', recipientPersonId: person.id, to: person.email,
    variables: { firstName: person.firstName ?? '', ...(username ? { username } : {}), sentTo: delivery.to },
  };
}
