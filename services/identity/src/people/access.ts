import { BUILT_IN_ROLES, isBuiltInRole, type RoleScope } from '@roster/contracts';
import type { IdentityTx } from '../db/client.js';

/** What a role means for tokens and decisions: built-in (contracts) or custom (role.defined). */
export interface ResolvedRole {
  key: string;
  permissions: readonly string[];
  scope: RoleScope;
  rank: number;
}

export interface PersonAccess {
  personId: string;
  tenantId: string;
  kind: 'client' | 'staff';
  status: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  memberships: { accountId: string; roleKey: string }[];
  roles: ResolvedRole[];
}

/** Resolves role keys of a tenant; an unknown custom key resolves to nothing (no permission). */
export async function resolveRoles(tx: IdentityTx, tenantId: string, keys: readonly string[]): Promise<ResolvedRole[]> {
  const unique = [...new Set(keys)];
  const custom = unique.filter((k) => !isBuiltInRole(k));
  const defined = custom.length
    ? await tx.customRole.findMany({ where: { tenantId, key: { in: custom } } })
    : [];
  const byKey = new Map(defined.map((r) => [r.key, r]));
  return unique.flatMap((key): ResolvedRole[] => {
    if (isBuiltInRole(key)) {
      const r = BUILT_IN_ROLES[key];
      return [{ key, permissions: r.permissions, scope: r.scope, rank: r.rank }];
    }
    const r = byKey.get(key);
    return r ? [{ key, permissions: r.permissions, scope: r.scope as RoleScope, rank: r.rank }] : [];
  });
}

/** A person of `tenantId` as identity knows them (null: unknown in that tenant, rule 8). */
export async function personAccess(tx: IdentityTx, tenantId: string, personId: string): Promise<PersonAccess | null> {
  const person = await tx.personProjection.findFirst({ where: { id: personId, tenantId } });
  if (!person) return null;
  const memberships = await tx.membershipProjection.findMany({ where: { personId, tenantId }, orderBy: { accountId: 'asc' } });
  const kind = person.kind === 'client' ? 'client' : 'staff';
  const keys = memberships.map((m) => m.roleKey);
  if (kind === 'client' && !keys.includes('client')) keys.push('client');
  return {
    personId, tenantId, kind, status: person.status,
    firstName: person.firstName, lastName: person.lastName, email: person.email, phone: person.phone,
    memberships: memberships.map((m) => ({ accountId: m.accountId, roleKey: m.roleKey })),
    roles: await resolveRoles(tx, tenantId, keys),
  };
}

/** The token's `roles` and `perms` (rule 8): role keys held, and the union of their permissions. */
export function tokenRoles(access: PersonAccess): { roles: string[]; permissions: string[] } {
  const roles = access.roles.map((r) => r.key);
  const permissions = [...new Set(access.roles.flatMap((r) => r.permissions))].sort();
  return { roles, permissions };
}

/** Highest rank of a set of roles (L7: nobody impersonates someone ranked above them). */
export const rankOf = (roles: readonly ResolvedRole[]): number => Math.max(0, ...roles.map((r) => r.rank));

/** Every account at or under `roots` in the tenant's tree (account.created). */
export async function accountsUnder(tx: IdentityTx, tenantId: string, roots: readonly string[]): Promise<Set<string>> {
  const within = new Set(roots);
  if (roots.length === 0) return within;
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `WITH RECURSIVE tree AS (
       SELECT id FROM account_projection WHERE tenant_id = $1::uuid AND id = ANY($2::uuid[])
       UNION SELECT a.id FROM account_projection a JOIN tree t ON a.parent_id = t.id WHERE a.tenant_id = $1::uuid
     ) SELECT id::text AS id FROM tree`,
    tenantId, roots,
  );
  for (const r of rows) within.add(r.id);
  return within;
}
