import { BUILT_IN_ROLES, isBuiltInRole, type RoleDefinition, type RoleScope } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';

export interface RoleView {
  key: string;
  name: string;
  permissions: string[];
  scope: RoleScope;
  rank: number;
  builtIn: boolean;
}

const builtInView = (r: RoleDefinition): RoleView => ({
  key: r.key, name: r.name, permissions: [...r.permissions], scope: r.scope, rank: r.rank, builtIn: true,
});

interface RoleRow { key: string; name: string; permissions: string[]; scope: string; rank: number }
const customView = (r: RoleRow): RoleView => ({
  key: r.key, name: r.name, permissions: r.permissions, scope: r.scope as RoleScope, rank: r.rank, builtIn: false,
});

/** Built-in roles (packages/contracts) and the tenant's custom ones, by key. */
export async function rolesByKey(tx: SqlTx, tenantId: string, keys?: readonly string[]): Promise<Map<string, RoleView>> {
  const out = new Map<string, RoleView>();
  const wanted = keys ? [...new Set(keys)] : undefined;
  for (const r of Object.values(BUILT_IN_ROLES)) if (!wanted || wanted.includes(r.key)) out.set(r.key, builtInView(r));
  const custom = wanted?.filter((k) => !isBuiltInRole(k));
  if (custom && custom.length === 0) return out;
  const rows = await tx.$queryRawUnsafe<RoleRow[]>(
    `SELECT key, name, permissions, scope, rank FROM role WHERE tenant_id = $1::uuid ${custom ? 'AND key = ANY($2::text[])' : ''} ORDER BY key`,
    tenantId, ...(custom ? [custom] : []),
  );
  for (const r of rows) out.set(r.key, customView(r));
  return out;
}

export async function findRole(tx: SqlTx, tenantId: string, key: string): Promise<RoleView | null> {
  return (await rolesByKey(tx, tenantId, [key])).get(key) ?? null;
}
