import { BUILT_IN_ROLES, isBuiltInRole, type RoleScope } from '@roster/contracts';
import type { Principal } from '@roster/platform/auth/claims';
import type { SqlTx } from '@roster/platform/db/database';
import { forbidden } from '@roster/platform/errors';

/**
 * Which visits (and schedules, clients) a caller may see (rule 8, P3), decided locally from the
 * token and scheduling's projections:
 * - `account` roles (owner, admin, manager, standard) with visits.read: the whole tenant;
 * - a salesperson (`assigned_clients`): visits of the clients assigned to them (client.assigned);
 * - a supervisor (`own_areas`): visits of clients of the accounts (and sub-accounts) they hold the role in;
 * - `self` (visits.read_own): a sitter their own schedule, a client their own visits.
 * Several roles widen the scope (union). A custom role's scope comes from `role.defined`.
 */
export interface VisitScope {
  tenantId: string;
  personId: string;
  kind: 'client' | 'staff';
  all: boolean;
  self: boolean;
  assignedClients: boolean;
  /** Role keys whose memberships define a supervisor's areas. */
  areaRoles: string[];
}

/** A tenant's custom role as scheduling knows it from `role.defined` (rule 8: a scope means the same everywhere). */
export interface CustomRole { scope: RoleScope; permissions: readonly string[] }

/**
 * The caller's scope, with the custom roles of the token looked up in scheduling's projection of
 * `role.defined` (issue 15 item 6): a custom role with the assigned-clients scope sees here the
 * clients the directory shows it, not the whole tenant.
 */
export async function visitScopeOf(db: SqlTx, me: Principal): Promise<VisitScope> {
  const custom = me.roles.filter((r) => !isBuiltInRole(r));
  const rows = custom.length === 0 ? [] : await db.$queryRawUnsafe<{ key: string; scope: RoleScope; permissions: string[] }[]>(
    'SELECT key, scope, permissions FROM role_projection WHERE tenant_id = $1::uuid AND key = ANY($2::text[])', me.tenantId, custom,
  );
  return decideVisitScope(me, new Map(rows.map((r) => [r.key, { scope: r.scope, permissions: r.permissions }])));
}

export function decideVisitScope(me: Principal, customRoles: ReadonlyMap<string, CustomRole>): VisitScope {
  const canRead = me.permissions.has('visits.read');
  const canReadOwn = me.permissions.has('visits.read_own');
  if (!canRead && !canReadOwn) throw forbidden('this needs the permission visits.read or visits.read_own, which your roles do not grant');
  const scope: VisitScope = { tenantId: me.tenantId, personId: me.personId, kind: me.kind, all: false, self: false, assignedClients: false, areaRoles: [] };
  const widen = (s: RoleScope, role: string) => {
    if (s === 'account') scope.all = true;
    else if (s === 'assigned_clients') scope.assignedClients = true;
    else if (s === 'own_areas') scope.areaRoles.push(role);
    else scope.self = true;
  };
  for (const role of me.roles) {
    if (isBuiltInRole(role)) {
      const def = BUILT_IN_ROLES[role];
      const perms = def.permissions as readonly string[];
      if (canRead && perms.includes('visits.read')) widen(def.scope, role);
      else if (canReadOwn && perms.includes('visits.read_own')) widen('self', role);
    } else {
      // A custom role reaches as far as its own scope says; one not projected yet, only the caller's own.
      const def = customRoles.get(role);
      if (def && canRead && def.permissions.includes('visits.read')) widen(def.scope, role);
      else if (def?.permissions.includes('visits.read_own') || def?.permissions.includes('visits.read') || !def) widen('self', role);
    }
  }
  // A token whose permissions come from no known role (custom permissions) still sees its own.
  if (!scope.all && !scope.assignedClients && scope.areaRoles.length === 0) scope.self = true;
  return scope;
}

/** Where a row's client and sitter are: a visit's sitter is in its assignment (`a`), a schedule's on itself. */
export interface ScopedColumns {
  client: string;
  sitter: string;
}
export const VISIT_SCOPE: ScopedColumns = { client: 'v.client_id', sitter: 'a.sitter_id' };
export const SCHEDULE_SCOPE: ScopedColumns = { client: 's.client_id', sitter: 's.sitter_id' };

/**
 * The SQL condition restricting rows to the scope; parameters are appended to `params`. The
 * tenant condition is always added by the caller.
 */
export function scopeCondition(scope: VisitScope, columns: ScopedColumns, params: unknown[]): string {
  if (scope.all) return 'TRUE';
  const p = (v: unknown) => (params.push(v), `$${params.length}`);
  // Only parameters the condition uses: Postgres refuses one whose type it cannot infer.
  let meParam: string | undefined;
  let tenantParam: string | undefined;
  const me = () => (meParam ??= p(scope.personId));
  const tenant = () => (tenantParam ??= p(scope.tenantId));
  const parts: string[] = [];
  if (scope.self) parts.push(scope.kind === 'client' ? `${columns.client} = ${me()}::uuid` : `${columns.sitter} = ${me()}::uuid`);
  if (scope.assignedClients) {
    parts.push(`${columns.client} IN (SELECT id FROM person_projection WHERE tenant_id = ${tenant()}::uuid AND assignee_id = ${me()}::uuid)`);
  }
  if (scope.areaRoles.length > 0) {
    const roles = p(scope.areaRoles);
    parts.push(`${columns.client} IN (
      SELECT c.id FROM person_projection c WHERE c.tenant_id = ${tenant()}::uuid AND c.account_id IN (
        WITH RECURSIVE areas AS (
          SELECT account_id AS id FROM membership WHERE person_id = ${me()}::uuid AND tenant_id = ${tenant()}::uuid AND active AND role_key = ANY(${roles}::text[])
          UNION SELECT acc.id FROM account_projection acc JOIN areas ON acc.parent_id = areas.id WHERE acc.tenant_id = ${tenant()}::uuid
        ) SELECT id FROM areas))`);
  }
  return parts.length > 0 ? `(${parts.join(' OR ')})` : 'FALSE';
}

/**
 * The same scope over clients (`alias` is a person_projection row): a sitter sees the clients
 * they have visits with or are default sitter of; a client only themselves.
 */
export function clientScopeCondition(scope: VisitScope, alias: string, params: unknown[]): string {
  if (scope.all) return 'TRUE';
  const visitCondition = scopeCondition(scope, { client: 'sv.client_id', sitter: 'sa.sitter_id' }, params);
  const parts = [`EXISTS (SELECT 1 FROM visit sv LEFT JOIN visit_assignment sa ON sa.visit_id = sv.id
                  WHERE sv.tenant_id = ${alias}.tenant_id AND sv.client_id = ${alias}.id AND ${visitCondition})`];
  if (scope.self) {
    params.push(scope.personId);
    const me = `$${params.length}::uuid`;
    parts.push(scope.kind === 'client' ? `${alias}.id = ${me}` : `${alias}.default_sitter_id = ${me}`);
  }
  if (scope.assignedClients) parts.push(`${alias}.assignee_id = $${params.push(scope.personId)}::uuid`);
  return `(${parts.join(' OR ')})`;
}
