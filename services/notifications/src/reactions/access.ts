import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally } from '../messages/enqueue.js';
import { fireMonitors, hasActiveMonitor } from '../monitors/monitors.js';
import { removeMembership, upsertMembership, upsertMemberships } from '../people/projection.js';
import { awaitPerson } from '../people/awaiting.js';
import { accountName, displayName, findPerson, type Person } from '../people/recipients.js';
import type { Reaction } from './react.js';

/** How many accounts the one e-mail of a bulk grant names (P4); the rest are counted. */
export const LISTED_ACCOUNTS = 50;

/** N3: the access-revoked notice, and the membership projection the managers are found with. */
export async function reactToAccessRevoked(tx: SqlTx, event: EventOf<'access.revoked'>): Promise<Reaction> {
  const d = event.data;
  await removeMembership(tx, event.tenantid, d.personId, d.accountId);
  const person = await findPerson(tx, event.tenantid, d.personId);
  const account = await accountName(tx, event.tenantid, d.accountId);
  const outcomes = person?.status === 'active' && person.email
    ? [await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template: 'access_revoked', channel: 'email',
      recipientPersonId: d.personId, to: person.email, variables: { firstName: person.firstName ?? '', accountName: account, roleKey: d.roleKey },
    })]
    : [];
  await fireMonitors(tx, event, `${displayName(person)} lost access to ${account} as ${d.roleKey}.`);
  // The catalogue expects notifications' step for access.revoked.
  return { step: 'send_access_revoked_notice', counts: tally(outcomes), ...(outcomes.length ? {} : { detail: 'no active person with an e-mail address to tell' }) };
}

export async function reactToRoleChange(tx: SqlTx, event: EventOf<'role.changed'>): Promise<Reaction> {
  await upsertMembership(tx, event.tenantid, event.data.personId, event.data.accountId, event.data.toRoleKey);
  return { counts: {} };
}

type Granted = EventOf<'access.granted'>;

/**
 * N3, P4: a run of access.granted, set-based (issue 19). The memberships in one statement; a
 * membership granted alone gets its `access_granted` e-mail; one of several that one operation
 * grants a person (`grantsToPerson`) waits in `access_notice_grant` until the last has arrived
 * (the inbox counts each event once), then the person gets one `access_granted_many` e-mail naming
 * them all, and the rows go. An operation one of whose events never arrives (dead-lettered) leaves
 * its rows: the memberships themselves are applied all the same. A notice whose person is not
 * known here yet waits for them (`awaitPerson`). Reports no step (the catalogue
 * expects none from notifications for access.granted).
 */
export async function reactToAccessGrants(tx: SqlTx, events: readonly Granted[]): Promise<void> {
  await upsertMemberships(tx, events.map((e) => ({ tenantId: e.tenantid, personId: e.data.personId, accountId: e.data.accountId, roleKey: e.data.roleKey })));
  const many = events.filter((e) => (e.data.grantsToPerson ?? 1) > 1);
  for (const event of events) if ((event.data.grantsToPerson ?? 1) === 1) await tellOfOneGrant(tx, event);
  if (many.length > 0) {
    for (const notice of await noteGrants(tx, many)) await tellOfManyGrants(tx, notice);
  }
  // Event monitors (N2) only where a tenant has one for access.granted: no query per event otherwise.
  for (const tenantId of new Set(many.map((e) => e.tenantid))) {
    if (!(await hasActiveMonitor(tx, tenantId, 'access.granted'))) continue;
    for (const event of many.filter((e) => e.tenantid === tenantId)) await monitorGrant(tx, event, await findPerson(tx, event.tenantid, event.data.personId));
  }
}

async function monitorGrant(tx: SqlTx, event: Granted, person: Person | null): Promise<void> {
  const d = event.data;
  await fireMonitors(tx, event, `${displayName(person)} got access to ${await accountName(tx, event.tenantid, d.accountId)} as ${d.roleKey}.`);
}

async function tellOfOneGrant(tx: SqlTx, event: Granted): Promise<void> {
  const d = event.data;
  const person = await findPerson(tx, event.tenantid, d.personId);
  if (!person) return awaitPerson(tx, event);
  if (person.status === 'active' && person.email) {
    await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template: 'access_granted', channel: 'email', recipientPersonId: d.personId, to: person.email,
      variables: { firstName: person.firstName ?? '', accountName: await accountName(tx, event.tenantid, d.accountId), roleKey: d.roleKey },
    });
  }
  await monitorGrant(tx, event, person);
}

/** A grant that waited for its person (`awaitPerson`), now that they are known: its e-mail. */
export async function tellOfAwaitedGrant(tx: SqlTx, event: Granted): Promise<void> {
  if ((event.data.grantsToPerson ?? 1) > 1) await tellOfManyGrants(tx, { event, tenantId: event.tenantid, personId: event.data.personId, operationId: event.correlationid });
  else await tellOfOneGrant(tx, event);
}

/** A bulk grant whose last membership has arrived: the event that completed it and its key. */
interface CompleteNotice { event: Granted; tenantId: string; personId: string; operationId: string }

/** The grants waiting for their operation's others, in two statements; returns the notices now complete. */
async function noteGrants(tx: SqlTx, events: readonly Granted[]): Promise<CompleteNotice[]> {
  await tx.$executeRawUnsafe(
    `INSERT INTO access_notice_grant (tenant_id, person_id, operation_id, account_id, role_key)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[]) ON CONFLICT DO NOTHING`,
    events.map((e) => e.tenantid), events.map((e) => e.data.personId), events.map((e) => e.correlationid), events.map((e) => e.data.accountId), events.map((e) => e.data.roleKey),
  );
  const perNotice = new Map<string, { last: Granted; arrived: number }>();
  for (const e of events) {
    const key = `${e.tenantid}/${e.data.personId}/${e.correlationid}`;
    perNotice.set(key, { last: e, arrived: (perNotice.get(key)?.arrived ?? 0) + 1 });
  }
  const notices = [...perNotice.values()];
  const counted = await tx.$queryRawUnsafe<{ personId: string; operationId: string; received: number; expected: number }[]>(
    `INSERT INTO access_notice (tenant_id, person_id, operation_id, expected, received)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::int[])
     ON CONFLICT (person_id, operation_id) DO UPDATE SET received = access_notice.received + EXCLUDED.received WHERE access_notice.tenant_id = EXCLUDED.tenant_id
     RETURNING person_id::text AS "personId", operation_id AS "operationId", received, expected`,
    notices.map((x) => x.last.tenantid), notices.map((x) => x.last.data.personId), notices.map((x) => x.last.correlationid),
    notices.map((x) => x.last.data.grantsToPerson ?? 1), notices.map((x) => x.arrived),
  );
  const byKey = new Map(notices.map((x) => [`${x.last.data.personId.toLowerCase()}/${x.last.correlationid}`, x.last]));
  return counted.filter((c) => c.received >= c.expected).map((c) => {
    const last = byKey.get(`${c.personId.toLowerCase()}/${c.operationId}`)!;
    return { event: last, tenantId: last.tenantid, personId: c.personId, operationId: c.operationId };
  });
}

/** The one e-mail of a bulk grant: the first LISTED_ACCOUNTS accounts by name, the rest counted. */
async function tellOfManyGrants(tx: SqlTx, notice: CompleteNotice): Promise<void> {
  const key = [notice.tenantId, notice.personId, notice.operationId] as const;
  // The rows stay while the person is unknown here: the notice is told from them once they are.
  const person = await findPerson(tx, notice.tenantId, notice.personId);
  if (!person) return awaitPerson(tx, notice.event);
  const grants = await tx.$queryRawUnsafe<{ accountName: string; roleKey: string }[]>(
    `SELECT coalesce(a.name, 'your team') AS "accountName", g.role_key AS "roleKey"
       FROM access_notice_grant g LEFT JOIN account_projection a ON a.id = g.account_id AND a.tenant_id = g.tenant_id
      WHERE g.tenant_id = $1::uuid AND g.person_id = $2::uuid AND g.operation_id = $3 ORDER BY 1, 2`, ...key,
  );
  await tx.$executeRawUnsafe('DELETE FROM access_notice_grant WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND operation_id = $3', ...key);
  await tx.$executeRawUnsafe('DELETE FROM access_notice WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND operation_id = $3', ...key);
  if (person.status !== 'active' || !person.email) return;
  await enqueueMessage(tx, {
    tenantId: notice.tenantId, cause: notice.event, template: 'access_granted_many', channel: 'email', recipientPersonId: notice.personId, to: person.email,
    idempotencyKey: `${notice.operationId}:access_granted_many:${notice.personId}`,
    variables: { firstName: person.firstName ?? '', accountCount: grants.length, accounts: grants.slice(0, LISTED_ACCOUNTS), moreAccounts: Math.max(0, grants.length - LISTED_ACCOUNTS) },
  });
}
