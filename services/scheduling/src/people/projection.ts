import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import type { PersonEvent } from '@roster/platform/people-projection';

/**
 * What scheduling knows of people beyond kind/status/version (rule 1): names (for the digest),
 * a client's account (a supervisor's areas), memberships (only staff with access are assigned)
 * and the staff member a client is assigned to (a salesperson's scope, P3). Every write is
 * tenant-scoped and order-proof (rule 3): profiles follow the person's version, memberships and
 * assignments the event time, so an older event arriving late changes nothing.
 */

/**
 * user.created / user.updated, whether or not `advancePersonProjection` took the event (`fresh`):
 * a newer status (a deactivation overtaking the creation) must not lose what only the creation
 * carries. Names and account are written when the event is the newest version, or when none was
 * known yet; the first membership is ordered by its own time like every membership.
 */
export async function recordProfile(tx: SqlTx, event: PersonEvent, fresh: boolean): Promise<void> {
  if (event.type !== 'user.created' && event.type !== 'user.updated') return;
  const d = event.data;
  const accountId = event.type === 'user.created' ? (event as EventOf<'user.created'>).data.accountId : null;
  await tx.$executeRawUnsafe(
    `UPDATE person_projection SET first_name = $3, last_name = $4, account_id = COALESCE($5::uuid, account_id)
     WHERE id = $1::uuid AND tenant_id = $2::uuid AND ($6::boolean OR first_name IS NULL)`,
    d.personId, event.tenantid, d.firstName, d.lastName, isUuid(accountId) ? accountId : null, fresh,
  );
  if (event.type === 'user.created') {
    const created = event as EventOf<'user.created'>;
    if (created.data.roleKey) await recordMembership(tx, event.tenantid, created.data.personId, created.data.accountId, created.data.roleKey, true, event.time);
  }
}

/**
 * access.granted / access.revoked / role.changed: the memberships as of their events' time, a run
 * of them in one statement (issue 19). Within the run the last event about a membership wins, as
 * it would one by one; across runs, `changed_at` keeps the newest.
 */
export async function recordAccessChanges(tx: SqlTx, events: readonly EventOf<'access.granted' | 'access.revoked' | 'role.changed'>[]): Promise<void> {
  const latest = new Map<string, { personId: string; accountId: string; tenantId: string; roleKey: string; active: boolean; at: string }>();
  for (const event of events) {
    const d = event.data;
    if (!isUuid(d.personId) || !isUuid(d.accountId)) continue;
    const [roleKey, active] = event.type === 'access.granted' ? [event.data.roleKey, true]
      : event.type === 'access.revoked' ? [event.data.roleKey, false] // stays as an inactive row: a grant older than it, arriving late, loses
        : [event.data.toRoleKey, true];
    const key = `${d.personId}/${d.accountId}`;
    latest.delete(key);
    latest.set(key, { personId: d.personId, accountId: d.accountId, tenantId: event.tenantid, roleKey, active, at: event.time });
  }
  const rows = [...latest.values()];
  if (rows.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO membership (person_id, account_id, tenant_id, role_key, active, changed_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::boolean[], $6::timestamptz[])
     ON CONFLICT (person_id, account_id) DO UPDATE SET role_key = EXCLUDED.role_key, active = EXCLUDED.active, changed_at = EXCLUDED.changed_at
     WHERE membership.changed_at <= EXCLUDED.changed_at AND membership.tenant_id = EXCLUDED.tenant_id`,
    rows.map((r) => r.personId), rows.map((r) => r.accountId), rows.map((r) => r.tenantId), rows.map((r) => r.roleKey), rows.map((r) => r.active), rows.map((r) => r.at),
  );
}

async function recordMembership(tx: SqlTx, tenantId: string, personId: string, accountId: string, roleKey: string, active: boolean, at: string): Promise<void> {
  if (!isUuid(personId) || !isUuid(accountId)) return;
  // A revocation stays as an inactive row so that a grant older than it, arriving late, loses.
  await tx.$executeRawUnsafe(
    `INSERT INTO membership (person_id, account_id, tenant_id, role_key, active, changed_at)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::timestamptz)
     ON CONFLICT (person_id, account_id) DO UPDATE SET role_key = EXCLUDED.role_key, active = EXCLUDED.active, changed_at = EXCLUDED.changed_at
     WHERE membership.changed_at <= EXCLUDED.changed_at AND membership.tenant_id = EXCLUDED.tenant_id`,
    personId, accountId, tenantId, roleKey, active, at,
  );
}

/**
 * client.assigned: the client's assignee as of the event's time. A client not seen yet gets a
 * placeholder row (status `pending`, version 0) that its user.created completes.
 */
export async function recordClientAssignment(tx: SqlTx, event: EventOf<'client.assigned'>): Promise<void> {
  const { clientId, staffId } = event.data;
  if (!isUuid(clientId) || (staffId !== null && !isUuid(staffId))) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO person_projection (id, tenant_id, kind, status, version, assignee_id, assignee_changed_at)
     VALUES ($1::uuid, $2::uuid, 'client', 'pending', 0, $3::uuid, $4::timestamptz)
     ON CONFLICT (id) DO UPDATE SET assignee_id = EXCLUDED.assignee_id, assignee_changed_at = EXCLUDED.assignee_changed_at
     WHERE person_projection.tenant_id = EXCLUDED.tenant_id
       AND (person_projection.assignee_changed_at IS NULL OR person_projection.assignee_changed_at <= EXCLUDED.assignee_changed_at)`,
    clientId, event.tenantid, staffId, event.time,
  );
}

/** account.created: the tree a supervisor's areas are read from. */
export async function recordAccount(tx: SqlTx, event: EventOf<'account.created'>): Promise<void> {
  const { accountId, parentId, kind } = event.data;
  if (!isUuid(accountId) || (parentId !== null && !isUuid(parentId))) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO account_projection (id, tenant_id, parent_id, kind) VALUES ($1::uuid, $2::uuid, $3::uuid, $4) ON CONFLICT (id) DO NOTHING`,
    accountId, event.tenantid, parentId, kind,
  );
}

/** role.defined: a custom role's scope and permissions; an older definition never overwrites a newer one. */
export async function recordRole(tx: SqlTx, event: EventOf<'role.defined'>): Promise<void> {
  const { roleKey, scope, permissions } = event.data;
  await tx.$executeRawUnsafe(
    `INSERT INTO role_projection (tenant_id, key, scope, permissions, changed_at) VALUES ($1::uuid, $2, $3, $4::text[], $5)
     ON CONFLICT (tenant_id, key) DO UPDATE SET scope = EXCLUDED.scope, permissions = EXCLUDED.permissions, changed_at = EXCLUDED.changed_at
     WHERE role_projection.changed_at <= EXCLUDED.changed_at`,
    event.tenantid, roleKey, scope, permissions, new Date(event.time),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string | null | undefined): s is string => typeof s === 'string' && UUID.test(s);
