import type { SqlTx } from '@roster/platform/db/database';

export interface Person {
  id: string;
  status: string;
  kind: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
}

const COLUMNS = 'id, status, kind, first_name AS "firstName", last_name AS "lastName", email, phone';

export async function findPerson(tx: SqlTx, tenantId: string, personId: string): Promise<Person | null> {
  const [p] = await tx.$queryRawUnsafe<Person[]>(`SELECT ${COLUMNS} FROM person_projection WHERE id = $1::uuid AND tenant_id = $2::uuid`, personId, tenantId);
  return p ?? null;
}

/** Many people in one query (a batch's recipients), keyed `tenant/person`. */
export async function findPeople(tx: SqlTx, keys: readonly { tenantId: string; personId: string }[]): Promise<Map<string, Person>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.$queryRawUnsafe<(Person & { tenantId: string })[]>(
    `SELECT p.tenant_id::text AS "tenantId", ${COLUMNS.split(', ').map((c) => `p.${c}`).join(', ')}
       FROM person_projection p JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON p.id = k.id AND p.tenant_id = k.t`,
    keys.map((k) => k.tenantId), keys.map((k) => k.personId),
  );
  return new Map(rows.map(({ tenantId, ...p }) => [`${tenantId}/${p.id}`, p]));
}

export const displayName = (p: Pick<Person, 'firstName' | 'lastName'> | null, fallback = 'someone'): string =>
  [p?.firstName, p?.lastName].filter(Boolean).join(' ') || fallback;

/** Roles whose holders are told about a sitter's visits that need a new sitter. */
export const MANAGING_ROLES = ['owner', 'admin', 'manager'];

/**
 * The active people holding one of `roles` in the accounts `personId` belongs to or in any account
 * above them in the tree (an owner at the root manages every branch), with an e-mail address.
 */
export async function managersOf(tx: SqlTx, tenantId: string, personId: string, roles: string[]): Promise<Person[]> {
  return tx.$queryRawUnsafe<Person[]>(MANAGERS_OF, tenantId, personId, roles);
}

/**
 * The managers SQL (tenant $1, person $2, roles $3): the recursive `accounts` CTE and the select,
 * for a reaction that reads more in the same statement (`SELECT … FROM managers`).
 */
export const MANAGERS_CTE = `RECURSIVE accounts(id) AS (
       SELECT account_id FROM person_membership WHERE tenant_id = $1::uuid AND person_id = $2::uuid
       UNION
       SELECT a.parent_id FROM account_projection a JOIN accounts ON a.id = accounts.id
        WHERE a.tenant_id = $1::uuid AND a.parent_id IS NOT NULL),
     managers AS (
     SELECT DISTINCT ${COLUMNS.split(', ').map((c) => `p.${c}`).join(', ')}
       FROM person_membership m JOIN person_projection p ON p.id = m.person_id AND p.tenant_id = m.tenant_id
      WHERE m.tenant_id = $1::uuid AND m.account_id IN (SELECT id FROM accounts) AND m.role_key = ANY($3::text[])
        AND p.status = 'active' AND p.email IS NOT NULL AND p.id <> $2::uuid)`;
const MANAGERS_OF = `WITH ${MANAGERS_CTE} SELECT * FROM managers`;

/** A person as the SQL of `findPerson`, for a reaction that reads more in the same statement. */
export const personSql = (tenant: string, person: string): string => `SELECT ${COLUMNS} FROM person_projection WHERE id = ${person} AND tenant_id = ${tenant}`;

/** The tenant's active owners with an e-mail address. */
export async function ownersOf(tx: SqlTx, tenantId: string, except?: string): Promise<Person[]> {
  return tx.$queryRawUnsafe<Person[]>(
    `SELECT DISTINCT ${COLUMNS.split(', ').map((c) => `p.${c}`).join(', ')}
       FROM person_membership m JOIN person_projection p ON p.id = m.person_id AND p.tenant_id = m.tenant_id
      WHERE m.tenant_id = $1::uuid AND m.role_key = 'owner' AND p.status = 'active' AND p.email IS NOT NULL
        AND ($2::uuid IS NULL OR p.id <> $2::uuid)`,
    tenantId, except ?? null,
  );
}

export async function accountName(tx: SqlTx, tenantId: string, accountId: string): Promise<string> {
  const [a] = await tx.$queryRawUnsafe<{ name: string }[]>('SELECT name FROM account_projection WHERE id = $1::uuid AND tenant_id = $2::uuid', accountId, tenantId);
  return a?.name ?? 'your team';
}
