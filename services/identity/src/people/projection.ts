import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';

/**
 * Identity's projections of directory data (rule 1): profiles (names and addresses, for usernames
 * and credential e-mails), memberships (roles in tokens), the account tree (supervisors' areas),
 * custom roles. Each is applied in the handler's inbox transaction.
 */

/** user.created / user.updated: names and addresses, only from a newer version of the person (rule 3). */
export async function applyProfile(tx: SqlTx, event: EventOf<'user.created'> | EventOf<'user.updated'>): Promise<void> {
  const d = event.data;
  await tx.$executeRawUnsafe(
    `UPDATE person_projection SET first_name = $2, last_name = $3, email = $4, phone = $5, profile_version = $6
     WHERE id = $1::uuid AND tenant_id = $7::uuid AND profile_version < $6`,
    d.personId, d.firstName, d.lastName, d.email, d.phone, event.subjectversion ?? 1, event.tenantid,
  );
  if (event.type === 'user.created') {
    const roleKey = d.kind === 'client' ? 'client' : event.data.roleKey ?? 'staff';
    await upsertMembership(tx, event.tenantid, d.personId, event.data.accountId, roleKey);
  }
}

export async function upsertMembership(tx: SqlTx, tenantId: string, personId: string, accountId: string, roleKey: string): Promise<void> {
  await upsertMemberships(tx, [{ tenantId, personId, accountId, roleKey }]);
}

/** Memberships in one statement; the last of a membership wins. */
async function upsertMemberships(tx: SqlTx, memberships: readonly { tenantId: string; personId: string; accountId: string; roleKey: string }[]): Promise<void> {
  const rows = [...new Map(memberships.map((m) => [`${m.personId}/${m.accountId}`, m])).values()];
  await tx.$executeRawUnsafe(
    `INSERT INTO membership_projection (person_id, account_id, tenant_id, role_key, updated_at)
     SELECT p, a, t, r, now() FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[]) AS x(p, a, t, r)
     ON CONFLICT (person_id, account_id) DO UPDATE SET role_key = EXCLUDED.role_key, updated_at = now()
     WHERE membership_projection.tenant_id = EXCLUDED.tenant_id`,
    rows.map((r) => r.personId), rows.map((r) => r.accountId), rows.map((r) => r.tenantId), rows.map((r) => r.roleKey),
  );
}

/** access.granted, a run of them: the memberships in one statement (issue 19); the last grant of a membership wins. */
export async function applyAccessGrants(tx: SqlTx, events: readonly EventOf<'access.granted'>[]): Promise<void> {
  await upsertMemberships(tx, events.map((e) => ({ ...e.data, tenantId: e.tenantid })));
}

/** access.revoked / role.changed: the membership, returning how many rows changed. */
export async function applyAccessChange(tx: SqlTx, event: EventOf<'access.revoked'> | EventOf<'role.changed'>): Promise<number> {
  const { personId, accountId } = event.data;
  const tenantId = event.tenantid;
  switch (event.type) {
    case 'role.changed':
      await upsertMembership(tx, tenantId, personId, accountId, event.data.toRoleKey);
      return 1;
    case 'access.revoked':
      return tx.$executeRawUnsafe(
        'DELETE FROM membership_projection WHERE person_id = $1::uuid AND account_id = $2::uuid AND tenant_id = $3::uuid', personId, accountId, tenantId,
      );
  }
}

export async function applyAccountCreated(tx: SqlTx, event: EventOf<'account.created'>): Promise<void> {
  const d = event.data;
  await tx.$executeRawUnsafe(
    `INSERT INTO account_projection (id, tenant_id, kind, parent_id, name) VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $5)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, parent_id = EXCLUDED.parent_id
     WHERE account_projection.tenant_id = EXCLUDED.tenant_id`,
    d.accountId, event.tenantid, d.kind, d.parentId, d.name,
  );
}

export async function applyRoleDefined(tx: SqlTx, event: EventOf<'role.defined'>): Promise<void> {
  const d = event.data;
  await tx.$executeRawUnsafe(
    `INSERT INTO custom_role (tenant_id, key, name, permissions, scope, rank) VALUES ($1::uuid, $2, $3, $4::text[], $5, $6)
     ON CONFLICT (tenant_id, key) DO UPDATE SET name = EXCLUDED.name, permissions = EXCLUDED.permissions, scope = EXCLUDED.scope, rank = EXCLUDED.rank`,
    event.tenantid, d.roleKey, d.name, d.permissions, d.scope, d.rank,
  );
}
