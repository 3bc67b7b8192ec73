import type { SqlTx } from '@roster/platform/db/database';

/** A person as the API shows it (P1, P5, P6): profile, status, memberships, login state, assignment. */
export interface PersonView {
  id: string;
  kind: string;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  status: string;
  version: number;
  /** The account the person was created in (their first membership). */
  accountId: string;
  memberships: { accountId: string; roleKey: string }[];
  roleKeys: string[];
  defaultLandingPage: string | null;
  dailyReminder: boolean;
  /** Clients: the staff member they are assigned to; `orphaned` when that person is deactivated or archived. */
  assigneeId: string | null;
  orphaned: boolean;
  hasLogin: boolean;
  loginEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PersonViewRow {
  id: string; kind: string; first_name: string; last_name: string; email: string | null; phone: string | null;
  status: string; version: number; account_id: string; default_landing_page: string | null; daily_reminder: boolean;
  assignee_id: string | null; orphaned: boolean; has_login: boolean; login_enabled: boolean; created_at: Date; updated_at: Date;
  sort_key: string; memberships: { accountId: string; roleKey: string }[] | null;
}

/** Columns of a person view, from `person p`. */
export const PERSON_VIEW_COLUMNS = `
  p.id::text, p.kind, p.first_name, p.last_name, p.email, p.phone, p.status, p.version, p.account_id::text,
  p.default_landing_page, p.daily_reminder, p.assignee_id::text, p.has_login, p.login_enabled, p.created_at, p.updated_at, p.sort_key,
  (p.assignee_id IS NOT NULL AND EXISTS (SELECT 1 FROM person s WHERE s.id = p.assignee_id AND s.status <> 'active')) AS orphaned,
  (SELECT json_agg(json_build_object('accountId', m.account_id, 'roleKey', m.role_key) ORDER BY m.created_at, m.account_id)
     FROM membership m WHERE m.person_id = p.id) AS memberships`;

export const personView = (r: PersonViewRow): PersonView => {
  const memberships = r.memberships ?? [];
  return {
    id: r.id, kind: r.kind, firstName: r.first_name, lastName: r.last_name, email: r.email, phone: r.phone,
    status: r.status, version: r.version, accountId: r.account_id, memberships,
    roleKeys: [...new Set(memberships.map((m) => m.roleKey))],
    defaultLandingPage: r.default_landing_page, dailyReminder: r.daily_reminder,
    assigneeId: r.assignee_id, orphaned: r.orphaned, hasLogin: r.has_login, loginEnabled: r.login_enabled,
    createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
  };
};

/**
 * One person of the tenant as viewed, or null. `visibleTo` is an extra SQL condition on `p` (the
 * caller's reach, from access/caller.ts `personCondition`) with its parameters numbered from $3.
 */
export async function readPerson(
  tx: SqlTx, tenantId: string, personId: string, visibleTo?: { condition: string; params: unknown[] },
): Promise<PersonView | null> {
  const rows = await tx.$queryRawUnsafe<PersonViewRow[]>(
    `SELECT ${PERSON_VIEW_COLUMNS} FROM person p WHERE p.id = $1::uuid AND p.tenant_id = $2::uuid${visibleTo ? ` AND ${visibleTo.condition}` : ''}`,
    personId, tenantId, ...(visibleTo?.params.slice(2) ?? []),
  );
  return rows[0] ? personView(rows[0]) : null;
}

/** Every role the person holds (lifecycle events carry them: consumers tell a manager from a sitter). */
export async function roleKeysOf(tx: SqlTx, personId: string): Promise<{ roleKeys: string[]; accountIds: string[] }> {
  const rows = await tx.$queryRawUnsafe<{ role_key: string; account_id: string }[]>(
    'SELECT role_key, account_id::text FROM membership WHERE person_id = $1::uuid ORDER BY created_at, account_id', personId,
  );
  return { roleKeys: [...new Set(rows.map((r) => r.role_key))], accountIds: rows.map((r) => r.account_id) };
}
