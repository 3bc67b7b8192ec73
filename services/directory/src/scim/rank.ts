import type { SqlTx } from '@roster/platform/db/database';
import { rolesByKey, type RoleView } from '../roles/definitions.js';
import { ScimError } from './errors.js';
import type { ScimClient } from './tokens.js';

/**
 * P2 and L7 through SCIM: a token acts with at most its issuer's rank. Without this, an admin's
 * token could make anyone an owner through the owner Group, or deactivate the owner who can
 * revoke it. 403 in the SCIM error format; checked before anything is written.
 */
export function requireRoleWithinRank(client: ScimClient, role: RoleView): void {
  if (role.rank > client.issuerRank) {
    throw new ScimError(403, `the Group ${role.key} is a role ranked above the issuer of this SCIM token: its members are changed in Roster by someone of that rank`);
  }
}

/** 403 when any of these people holds a role ranked above the token's issuer. */
export async function requireWithinRank(db: SqlTx, client: ScimClient, personIds: readonly string[]): Promise<void> {
  if (personIds.length === 0) return;
  const held = await db.$queryRawUnsafe<{ person_id: string; roles: string[] }[]>(
    `SELECT person_id::text, array_agg(DISTINCT role_key) AS roles FROM membership
      WHERE tenant_id = $1::uuid AND person_id::text = ANY($2::text[]) GROUP BY person_id`,
    client.tenantId, personIds,
  );
  const roles = await rolesByKey(db, client.tenantId, held.flatMap((h) => h.roles));
  for (const h of held) {
    const above = h.roles.map((key) => roles.get(key)).find((r) => r !== undefined && r.rank > client.issuerRank);
    if (above) {
      throw new ScimError(403, `User ${h.person_id} holds the role ${above.key}, ranked above the issuer of this SCIM token: they are changed in Roster by someone of that rank`);
    }
  }
}
