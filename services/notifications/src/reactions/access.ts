import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally } from '../messages/enqueue.js';
import { fireMonitors } from '../monitors/monitors.js';
import { removeMembership, upsertMembership } from '../people/projection.js';
import { accountName, displayName, findPerson } from '../people/recipients.js';
import type { Reaction } from './react.js';

/** How many accounts the one e-mail of a bulk grant names (P4); the rest are counted. */
export const LISTED_ACCOUNTS = 50;

/** N3: access granted / revoked notices, and the membership projection the managers are found with. */
export async function reactToAccessChange(tx: SqlTx, event: EventOf<'access.granted'> | EventOf<'access.revoked'>): Promise<Reaction> {
  if (event.type === 'access.granted' && (event.data.grantsToPerson ?? 1) > 1) return noteOneOfManyGrants(tx, event);
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

/**
 * P4: one of the memberships one operation grants a person. It waits in `access_notice_grant`
 * until the last of them has arrived (the inbox counts each event once), then the person gets one
 * e-mail naming them all, and the rows go. An operation whose events never all arrive (one
 * dead-lettered) leaves its rows: the grants themselves are applied all the same.
 */
async function noteOneOfManyGrants(tx: SqlTx, event: EventOf<'access.granted'>): Promise<Reaction> {
  const d = event.data;
  const key = [event.tenantid, d.personId, event.correlationid] as const;
  await upsertMembership(tx, event.tenantid, d.personId, d.accountId, d.roleKey);
  await tx.$executeRawUnsafe(
    `INSERT INTO access_notice_grant (tenant_id, person_id, operation_id, account_id, role_key) VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $5)
     ON CONFLICT DO NOTHING`, ...key, d.accountId, d.roleKey,
  );
  const [notice] = await tx.$queryRawUnsafe<{ received: number; expected: number }[]>(
    `INSERT INTO access_notice (tenant_id, person_id, operation_id, expected, received) VALUES ($1::uuid, $2::uuid, $3, $4, 1)
     ON CONFLICT (person_id, operation_id) DO UPDATE SET received = access_notice.received + 1 WHERE access_notice.tenant_id = EXCLUDED.tenant_id
     RETURNING received, expected`, ...key, d.grantsToPerson,
  );
  const person = await findPerson(tx, event.tenantid, d.personId);
  await fireMonitors(tx, event, `${displayName(person)} got access to ${await accountName(tx, event.tenantid, d.accountId)} as ${d.roleKey}.`);
  if (!notice || notice.received < notice.expected) return { counts: {} };

  const grants = await tx.$queryRawUnsafe<{ accountName: string; roleKey: string }[]>(
    `SELECT coalesce(a.name, 'your team') AS "accountName", g.role_key AS "roleKey"
       FROM access_notice_grant g LEFT JOIN account_projection a ON a.id = g.account_id AND a.tenant_id = g.tenant_id
      WHERE g.tenant_id = $1::uuid AND g.person_id = $2::uuid AND g.operation_id = $3 ORDER BY 1, 2`, ...key,
  );
  await tx.$executeRawUnsafe('DELETE FROM access_notice_grant WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND operation_id = $3', ...key);
  await tx.$executeRawUnsafe('DELETE FROM access_notice WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND operation_id = $3', ...key);
  const outcomes = person?.status === 'active' && person.email
    ? [await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template: 'access_granted_many', channel: 'email', recipientPersonId: d.personId, to: person.email,
      idempotencyKey: `${event.correlationid}:access_granted_many:${d.personId}`,
      variables: { firstName: person.firstName ?? '', accountCount: grants.length, accounts: grants.slice(0, LISTED_ACCOUNTS), moreAccounts: Math.max(0, grants.length - LISTED_ACCOUNTS) },
    })]
    : [];
  return { counts: tally(outcomes) };
}
