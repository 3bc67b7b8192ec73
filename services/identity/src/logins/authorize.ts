import { requirePermission, refuseImpersonation } from '@roster/platform/auth/middleware';
import { forbidden } from '@roster/platform/errors';
import type { IdentityTx } from '../db/client.js';
import { accountsUnder, rankOf, resolveRoles, type PersonAccess } from '../people/access.js';
import type { Caller } from './caller.js';

/**
 * Who may grant a login or a new password to `target` (L1, L5, P3):
 * - the operator, only to a tenant's owner (bootstrapping a tenant);
 * - a person holding `logins.grant` through an account-wide role, anyone of the tenant;
 * - a supervisor (scope own_areas), only people all of whose accounts are their areas or under them;
 * - never a salesperson, never through impersonation, and only for someone ranked strictly below
 *   the caller (issue 15): a credential sent to `sendTo` hands the account to whoever reads that
 *   address, so a peer (a standard user for another, a sitter for another sitter) or anyone above
 *   must not be able to ask for one. People change their own password with PUT /password.
 */
export async function authorizeCredentialGrant(tx: IdentityTx, caller: Caller, target: PersonAccess, what: string): Promise<void> {
  if (caller.kind === 'operator') {
    if (!target.roles.some((r) => r.key === 'owner')) throw forbidden(`the operator key may ${what} only for a tenant's owner`);
    return;
  }
  const me = caller.principal;
  requirePermission(me, 'logins.grant');
  refuseImpersonation(me, what);
  const myRoles = await resolveRoles(tx, me.tenantId, me.roles);
  const granting = myRoles.filter((r) => r.permissions.includes('logins.grant'));
  if (target.personId === me.personId) throw forbidden(`you may not ${what} for yourself: change your password with PUT /password`);
  if (rankOf(target.roles) >= rankOf(myRoles)) throw forbidden(`you may ${what} only for people whose role ranks below yours`);
  if (granting.some((r) => r.scope === 'account')) return;
  const areaRoles = granting.filter((r) => r.scope === 'own_areas').map((r) => r.key);
  if (areaRoles.length > 0) {
    const mine = await tx.membershipProjection.findMany({ where: { personId: me.personId, tenantId: me.tenantId, roleKey: { in: areaRoles } } });
    const within = await accountsUnder(tx, me.tenantId, mine.map((m) => m.accountId));
    if (target.memberships.length > 0 && target.memberships.every((m) => within.has(m.accountId))) return;
    throw forbidden(`a supervisor may ${what} only for people in their own areas`);
  }
  throw forbidden(`your roles do not let you ${what}`);
}
