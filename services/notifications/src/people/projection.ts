import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import type { PersonEvent } from '@roster/platform/people-projection';
import { fireMonitors } from '../monitors/monitors.js';

/** Names, addresses and the reminder opt-in of the newest version (rule 3); a created staff member's first membership. */
export async function applyProfile(tx: SqlTx, event: PersonEvent): Promise<void> {
  if (event.type !== 'user.created' && event.type !== 'user.updated') return;
  const d = event.data;
  await tx.$executeRawUnsafe(
    'UPDATE person_projection SET first_name = $3, last_name = $4, email = $5, phone = $6 WHERE id = $1::uuid AND tenant_id = $2::uuid',
    d.personId, event.tenantid, d.firstName, d.lastName, d.email, d.phone,
  );
  if (d.dailyReminder !== undefined) {
    await tx.$executeRawUnsafe(
      `INSERT INTO subscription (person_id, tenant_id, daily_reminder) VALUES ($1::uuid, $2::uuid, $3)
       ON CONFLICT (person_id) DO UPDATE SET daily_reminder = EXCLUDED.daily_reminder, updated_at = now()
        WHERE subscription.tenant_id = EXCLUDED.tenant_id`,
      d.personId, event.tenantid, d.dailyReminder,
    );
  }
  if (event.type === 'user.created') {
    createdIn.add(tx);
    if (event.data.roleKey) await upsertMembership(tx, event.tenantid, d.personId, event.data.accountId, event.data.roleKey);
    await fireMonitors(tx, event, `${d.firstName} ${d.lastName} (${d.kind}) was added.`);
  }
}

// The transactions that created people: after their commit, grants that waited for them are told (N3).
const createdIn = new WeakSet<object>();
export const peopleCreatedIn = (tx: object): boolean => createdIn.has(tx);

/** Many memberships in one statement (a bulk grant's run); the last of a membership wins. */
export async function upsertMemberships(tx: SqlTx, memberships: readonly { tenantId: string; personId: string; accountId: string; roleKey: string }[]): Promise<void> {
  const rows = [...new Map(memberships.map((m) => [`${m.personId}/${m.accountId}`, m])).values()];
  if (rows.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO person_membership (tenant_id, person_id, account_id, role_key)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[])
     ON CONFLICT (person_id, account_id) DO UPDATE SET role_key = EXCLUDED.role_key, updated_at = now()
      WHERE person_membership.tenant_id = EXCLUDED.tenant_id`,
    rows.map((r) => r.tenantId), rows.map((r) => r.personId), rows.map((r) => r.accountId), rows.map((r) => r.roleKey),
  );
}

export async function upsertMembership(tx: SqlTx, tenantId: string, personId: string, accountId: string, roleKey: string): Promise<void> {
  await upsertMemberships(tx, [{ tenantId, personId, accountId, roleKey }]);
}

export async function removeMembership(tx: SqlTx, tenantId: string, personId: string, accountId: string): Promise<void> {
  await tx.$executeRawUnsafe(
    'DELETE FROM person_membership WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND account_id = $3::uuid', tenantId, personId, accountId,
  );
}

/** The account tree (P1), from `account.created`: managers of a parent account manage its children. */
export async function recordAccount(tx: SqlTx, event: EventOf<'account.created'>): Promise<void> {
  const d = event.data;
  await tx.$executeRawUnsafe(
    `INSERT INTO account_projection (id, tenant_id, parent_id, name, kind) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id WHERE account_projection.tenant_id = EXCLUDED.tenant_id`,
    d.accountId, event.tenantid, d.parentId, d.name, d.kind,
  );
}
