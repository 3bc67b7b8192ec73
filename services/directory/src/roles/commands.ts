import { BUILT_IN_ROLES, isBuiltInRole, isPermission, type Actor, type RoleScope } from '@roster/contracts';
import { badRequest, conflict, DomainError, notFound } from '@roster/platform/errors';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { DirectoryTx } from '../db/client.js';
import { recordAudit } from '../audit/audit.js';
import type { RoleView } from './definitions.js';

/** A custom role's rank: that of the highest built-in role whose permissions it covers (roles.ts). */
export function rankOf(permissions: readonly string[]): number {
  const held = new Set(permissions);
  return Math.max(0, ...Object.values(BUILT_IN_ROLES).filter((r) => r.permissions.every((p) => held.has(p))).map((r) => r.rank));
}

function validPermissions(permissions: readonly string[]): string[] {
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length) {
    throw new DomainError('invalid', 'unknown-permission', 'Unknown permission', `not in the permission catalogue: ${unknown.join(', ')}`, { unknownPermissions: unknown });
  }
  return [...new Set(permissions)].sort();
}

export interface RoleInput {
  key: string;
  name: string;
  permissions: readonly string[];
  scope?: RoleScope | undefined;
}

/**
 * P2: defines a tenant's custom role; announced with `role.defined` (identity puts its permissions
 * in tokens). `maxRank` is the caller's: nobody defines a role above their own.
 */
export async function defineRole(tx: DirectoryTx, tenantId: string, input: RoleInput, actor: Actor, maxRank: number): Promise<RoleView> {
  if (isBuiltInRole(input.key)) throw conflict(`${input.key} is a built-in role; custom roles use other keys`);
  const permissions = validPermissions(input.permissions);
  const rank = rankOf(permissions);
  if (rank > maxRank) throw new DomainError('forbidden', 'forbidden', 'Forbidden', `a role with these permissions ranks ${rank}, above your own (${maxRank})`);
  const scope = input.scope ?? 'account';
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO role (tenant_id, key, name, permissions, scope, rank) VALUES ($1::uuid, $2, $3, $4::text[], $5, $6) ON CONFLICT DO NOTHING`,
    tenantId, input.key, input.name, permissions, scope, rank,
  );
  if (inserted !== 1) throw conflict(`the role ${input.key} already exists; change it with PATCH /roles/${input.key}`);
  return announce(tx, tenantId, { key: input.key, name: input.name, permissions, scope, rank, builtIn: false }, actor, 'role.defined');
}

/** P2: changes a custom role's name, permissions or scope; `role.defined` again. Built-in roles are fixed (409). */
export async function changeRole(
  tx: DirectoryTx, tenantId: string, key: string, change: { name?: string | undefined; permissions?: readonly string[] | undefined; scope?: RoleScope | undefined },
  actor: Actor, maxRank: number,
): Promise<RoleView> {
  if (isBuiltInRole(key)) throw conflict(`${key} is a built-in role and cannot be changed`);
  const rows = await tx.$queryRawUnsafe<{ name: string; permissions: string[]; scope: string; rank: number }[]>(
    'SELECT name, permissions, scope, rank FROM role WHERE tenant_id = $1::uuid AND key = $2 FOR UPDATE', tenantId, key,
  );
  const current = rows[0];
  if (!current) throw notFound(`role ${key}`);
  if (current.rank > maxRank) throw new DomainError('forbidden', 'forbidden', 'Forbidden', `the role ${key} ranks above your own`);
  const permissions = change.permissions ? validPermissions(change.permissions) : current.permissions;
  const rank = rankOf(permissions);
  if (rank > maxRank) throw new DomainError('forbidden', 'forbidden', 'Forbidden', `a role with these permissions ranks ${rank}, above your own (${maxRank})`);
  if (!change.name && !change.permissions && !change.scope) throw badRequest('give name, permissions or scope to change');
  const role: RoleView = { key, name: change.name ?? current.name, permissions, scope: change.scope ?? (current.scope as RoleScope), rank, builtIn: false };
  await tx.$executeRawUnsafe(
    'UPDATE role SET name = $3, permissions = $4::text[], scope = $5, rank = $6, updated_at = now() WHERE tenant_id = $1::uuid AND key = $2',
    tenantId, key, role.name, role.permissions, role.scope, role.rank,
  );
  return announce(tx, tenantId, role, actor, 'role.changed_definition');
}

async function announce(tx: DirectoryTx, tenantId: string, role: RoleView, actor: Actor, action: string): Promise<RoleView> {
  await stageEvents(tx, [eventFor('directory', {
    type: 'role.defined', subject: role.key, tenantId,
    data: { roleKey: role.key, name: role.name, permissions: role.permissions, scope: role.scope, rank: role.rank, actor },
  })]);
  await recordAudit(tx, { tenantId, actor, action, subjectId: role.key, detail: { permissions: role.permissions, scope: role.scope, rank: role.rank } });
  return role;
}
