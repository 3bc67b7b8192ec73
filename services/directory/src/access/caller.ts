import type { Actor, Permission } from '@roster/contracts';
import type { Principal } from '@roster/platform/auth/claims';
import type { SqlTx } from '@roster/platform/db/database';
import { forbidden } from '@roster/platform/errors';
import { rolesByKey } from '../roles/definitions.js';

/**
 * What the caller may do where (P2, P3, rule 8), decided locally from the token and the
 * directory's own memberships:
 * - the token says which permissions the caller holds at all (403 without);
 * - owner and admin act on the whole tenant;
 * - any other role acts in the account it is held in and every account below it (a role held on
 *   a chain reaches its branches; a role held on a branch does not reach the chain or its siblings);
 * - a role's scope narrows that: `assigned_clients` (salespeople) reaches only the clients assigned
 *   to the caller, `self` only the caller, `own_areas` (supervisors) the people of the areas below.
 * Everyone can read their own profile.
 */
export interface Caller {
  principal: Principal;
  tenantId: string;
  personId: string;
  actor: Actor;
  tenantWide: boolean;
  grants: CallerGrant[];
  /** Highest rank among the caller's roles: nobody grants a role above it (L7, P2). */
  rank: number;
}

export interface CallerGrant {
  accountId: string;
  roleKey: string;
  scope: 'account' | 'assigned_clients' | 'own_areas' | 'self';
  permissions: ReadonlySet<string>;
}

export const TENANT_WIDE_ROLES = ['owner', 'admin'];

export const actorOf = (p: Principal): Actor => ({ kind: 'person', personId: p.personId, impersonatorId: p.impersonatorId });

export async function loadCaller(tx: SqlTx, principal: Principal): Promise<Caller> {
  const tenantWide = principal.roles.some((r) => TENANT_WIDE_ROLES.includes(r));
  // Owners and admins reach the whole tenant: their memberships change nothing, so they are not read.
  const memberships = tenantWide ? [] : await tx.$queryRawUnsafe<{ account_id: string; role_key: string }[]>(
    'SELECT account_id::text, role_key FROM membership WHERE person_id = $1::uuid AND tenant_id = $2::uuid',
    principal.personId, principal.tenantId,
  );
  const roles = await rolesByKey(tx, principal.tenantId, [...principal.roles, ...memberships.map((m) => m.role_key)]);
  const grants: CallerGrant[] = [];
  for (const m of memberships) {
    const role = roles.get(m.role_key);
    if (!role) continue;
    // The token bounds what a membership gives: a role changed since the token was issued does not widen it.
    const permissions = new Set(role.permissions.filter((p) => principal.permissions.has(p)));
    grants.push({ accountId: m.account_id, roleKey: m.role_key, scope: role.scope, permissions });
  }
  const rank = Math.max(0, ...principal.roles.map((k) => roles.get(k)?.rank ?? 0));
  return {
    principal, tenantId: principal.tenantId, personId: principal.personId, actor: actorOf(principal),
    tenantWide, grants, rank,
  };
}

/** 403 unless the token carries the permission at all. */
export function requireToken(caller: Caller, permission: Permission): void {
  if (!caller.principal.permissions.has(permission)) {
    throw forbidden(`this needs the permission ${permission}, which your roles do not grant`);
  }
}

/** Roots of the account subtrees where the caller holds `permission` with an account-wide scope. */
export const subtreeRoots = (caller: Caller, permission: Permission): string[] =>
  caller.grants.filter((g) => g.permissions.has(permission) && (g.scope === 'account' || g.scope === 'own_areas')).map((g) => g.accountId);

/** Whether some grant of `permission` reaches only the caller's assigned clients. */
export const reachesAssignedClients = (caller: Caller, permission: Permission): boolean =>
  caller.grants.some((g) => g.permissions.has(permission) && g.scope === 'assigned_clients');

/**
 * SQL condition (on a `person` row aliased `p`) true when the caller may apply `permission` to
 * that person. Parameters are appended to `params`; the returned text references them by number.
 */
export function personCondition(caller: Caller, permission: Permission, params: unknown[]): string {
  if (!caller.principal.permissions.has(permission)) {
    if (permission !== 'people.read') return 'false';
    params.push(caller.personId);
    return `p.id = $${params.length}::uuid`;
  }
  if (caller.tenantWide) return 'true';
  const parts: string[] = [];
  const roots = subtreeRoots(caller, permission);
  if (roots.length > 0) {
    params.push(roots);
    parts.push(`EXISTS (SELECT 1 FROM membership m JOIN account a ON a.id = m.account_id WHERE m.person_id = p.id AND a.ancestors && $${params.length}::uuid[])`);
  }
  let me: string | undefined;
  // Only pushed when used: a parameter the statement does not reference is an error in Postgres.
  const meParam = () => (me ??= (params.push(caller.personId), `$${params.length}::uuid`));
  if (reachesAssignedClients(caller, permission)) parts.push(`(p.kind = 'client' AND p.assignee_id = ${meParam()})`);
  if (permission === 'people.read' || caller.grants.some((g) => g.permissions.has(permission) && g.scope === 'self')) parts.push(`p.id = ${meParam()}`);
  return parts.length ? `(${parts.join(' OR ')})` : 'false';
}

/** Whether the caller holds `permission` in `accountId` (through the account itself or one above it). */
export async function canInAccount(tx: SqlTx, caller: Caller, permission: Permission, accountId: string): Promise<boolean> {
  if (!caller.principal.permissions.has(permission)) return false;
  if (caller.tenantWide) return true;
  const roots = caller.grants.filter((g) => g.permissions.has(permission)).map((g) => g.accountId);
  if (roots.length === 0) return false;
  const rows = await tx.$queryRawUnsafe<{ ok: boolean }[]>(
    'SELECT ancestors && $2::uuid[] AS ok FROM account WHERE id = $1::uuid AND tenant_id = $3::uuid',
    accountId, roots, caller.tenantId,
  );
  return rows[0]?.ok === true;
}

/** Accounts (ids) of `accountIds` where the caller does NOT hold `permission`. */
export async function accountsOutOfReach(tx: SqlTx, caller: Caller, permission: Permission, accountIds: readonly string[]): Promise<string[]> {
  if (!caller.principal.permissions.has(permission)) return [...accountIds];
  if (caller.tenantWide) return [];
  const roots = caller.grants.filter((g) => g.permissions.has(permission)).map((g) => g.accountId);
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    'SELECT id::text FROM account WHERE id = ANY($1::uuid[]) AND tenant_id = $3::uuid AND NOT (ancestors && $2::uuid[])',
    accountIds, roots, caller.tenantId,
  );
  return rows.map((r) => r.id);
}
