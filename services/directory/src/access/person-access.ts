import type { Permission } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { forbidden, notFound } from '@roster/platform/errors';
import { rolesByKey } from '../roles/definitions.js';
import { personCondition, type Caller } from './caller.js';

/**
 * The caller may apply `permission` to this person of their tenant: 404 when the caller cannot
 * even see them (another tenant, another branch, a salesperson's unassigned client), 403 when
 * they can see them but not do this, or when the person holds a role ranked above the caller's.
 */
export async function requireActOn(tx: SqlTx, caller: Caller, permission: Permission, personId: string): Promise<void> {
  const params: unknown[] = [personId, caller.tenantId];
  const visible = personCondition(caller, 'people.read', params);
  const permitted = personCondition(caller, permission, params);
  const rows = await tx.$queryRawUnsafe<{ visible: boolean; permitted: boolean; roles: string[] }[]>(
    `SELECT ${visible} AS visible, ${permitted} AS permitted,
            ARRAY(SELECT DISTINCT role_key FROM membership WHERE person_id = p.id) AS roles
     FROM person p WHERE p.id = $1::uuid AND p.tenant_id = $2::uuid`,
    ...params,
  );
  const row = rows[0];
  if (!row || !row.visible) throw notFound(`person ${personId}`);
  if (!row.permitted) throw forbidden(`your roles do not give ${permission} over person ${personId} (outside your accounts, areas or assigned clients)`);
  if (caller.personId !== personId) {
    const roles = await rolesByKey(tx, caller.tenantId, row.roles);
    const top = Math.max(0, ...[...roles.values()].map((r) => r.rank));
    if (top > caller.rank) throw forbidden(`person ${personId} holds a role ranked above yours`);
  }
}

/** 404 unless the caller can see the person (people.read reach, or themselves). */
export async function requireVisible(tx: SqlTx, caller: Caller, personId: string): Promise<void> {
  const params: unknown[] = [personId, caller.tenantId];
  const visible = personCondition(caller, 'people.read', params);
  const rows = await tx.$queryRawUnsafe<{ ok: boolean }[]>(
    `SELECT ${visible} AS ok FROM person p WHERE p.id = $1::uuid AND p.tenant_id = $2::uuid`, ...params,
  );
  if (!rows[0]?.ok) throw notFound(`person ${personId}`);
}
