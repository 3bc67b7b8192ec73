import { requirePermission } from '@roster/platform/auth/middleware';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { conflict, forbidden, notFound } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import { signOutOfApplications } from '../oidc/sessions.js';
import type { IdentityTx } from '../db/client.js';
import { rankOf, resolveRoles } from '../people/access.js';
import { hashPassword } from '../passwords/hashing.js';
import { generateTemporaryPassword } from '../passwords/policy.js';
import { revokeAllSessions, type Revocation } from '../sessions/revoke.js';
import { authorizeCredentialGrant } from './authorize.js';
import { actorOf, type Caller } from './caller.js';
import { credentialsDelivery, noAddress, sealForNotifications } from './delivery.js';
import { personInTenant, temporaryExpiry } from './grant.js';

const loginOf = async (tx: IdentityTx, tenantId: string, personId: string) => {
  const login = await tx.login.findFirst({ where: { personId, tenantId } });
  if (!login) throw notFound(`login of person ${personId}`);
  return login;
};

/**
 * Raises identity's own not-before at once (the bus brings the same to every other service) and,
 * when every session of the person ended, signs them out of the applications too (issue 17:
 * back-channel logout, grants revoked), after the commit.
 */
export const applyLocally = (ctx: IdentityContext, revocation: Revocation | null): void => void signOutLocally(ctx, revocation);

/** `applyLocally`, for a caller that must know the applications were signed out before it goes on. */
export async function signOutLocally(ctx: IdentityContext, revocation: Revocation | null): Promise<void> {
  if (revocation) ctx.auth.notBefore.raise(revocation.subject, revocation.notBeforeMs);
  ctx.relay.nudge();
  if (!revocation || revocation.subject !== revocation.personId) return;
  const started = performance.now();
  try {
    const r = await signOutOfApplications(ctx, revocation.personId);
    if (r.grantsRevoked + r.logoutTokensSent + r.logoutTokensFailed > 0) {
      ctx.logger.info({ personId: revocation.personId, ...r, ms: Math.round(performance.now() - started) }, 'signed out of applications');
    }
  } catch (error) {
    ctx.logger.error({ err: error, personId: revocation.personId }, 'signing out of applications failed');
  }
}

/**
 * L6: switches a login off or on without touching the person. Off ends every session at once
 * (`login.disabled` + `sessions.revoked`); logging in is refused while off.
 */
export async function setLoginEnabled(ctx: IdentityContext, caller: Caller & { kind: 'person' }, personId: string, enabled: boolean) {
  const me = caller.principal;
  requirePermission(me, 'logins.manage');
  let revocation: Revocation | null = null;
  const result = await ctx.prisma.$transaction(async (tx) => {
    const target = await personInTenant(tx, caller.tenantId, personId);
    const login = await loginOf(tx, caller.tenantId, personId);
    if (rankOf(target.roles) > rankOf(await resolveRoles(tx, me.tenantId, me.roles))) {
      throw forbidden('you may not switch the login of someone whose role ranks above yours');
    }
    if (login.enabled === enabled) return { personId, username: login.username, enabled, changed: false };
    await tx.login.update({ where: { personId }, data: { enabled, updatedAt: new Date() } });
    const actor = actorOf(caller);
    const type = enabled ? 'login.enabled' : 'login.disabled';
    await stageEvents(tx, [eventFor('identity', { type, subject: personId, tenantId: caller.tenantId, data: { personId, username: login.username, actor } })]);
    if (!enabled) revocation = await revokeAllSessions(tx, caller.tenantId, personId, 'login_disabled');
    return { personId, username: login.username, enabled, changed: true };
  });
  applyLocally(ctx, revocation);
  if (result.changed) ctx.logger.info({ personId, enabled, actor: actorOf(caller) }, enabled ? 'login switched on' : 'login switched off');
  return result;
}

/**
 * L5: a fresh temporary password, e-mailed like the first one (`password.reset`, reason
 * new_password). The old password stops working and the person's sessions end.
 */
export async function issueNewPassword(ctx: IdentityContext, caller: Caller, personId: string, sendTo: string | undefined) {
  const person = await ctx.prisma.$transaction(async (tx) => {
    const target = await personInTenant(tx, caller.tenantId, personId);
    await authorizeCredentialGrant(tx, caller, target, 'generate new passwords');
    const { username } = await loginOf(tx, caller.tenantId, personId);
    if (target.status !== 'active') throw conflict(`person ${personId} is ${target.status}: reactivate or restore them first`);
    return { ...target, username };
  });
  const delivery = credentialsDelivery(person, 'new_password', sendTo);
  if (!delivery) throw noAddress();
  const password = generateTemporaryPassword();
  const passwordHash = await hashPassword(password);
  const expiresAt = temporaryExpiry(ctx);
  let revocation: Revocation | null = null;
  await ctx.prisma.$transaction(async (tx) => {
    await tx.login.update({
      where: { personId },
      data: { passwordHash, passwordTemporary: true, temporaryExpiresAt: expiresAt, passwordChangeRequired: false, updatedAt: new Date() },
    });
    await stageEvents(tx, [eventFor('identity', {
      type: 'password.reset', subject: personId, tenantId: caller.tenantId,
      data: {
        personId, username: person.username, reason: 'new_password', temporary: true, expiresAt: expiresAt.toISOString(), delivery,
        secret: sealForNotifications(ctx, password), actor: actorOf(caller),
      },
    })]);
    revocation = await revokeAllSessions(tx, caller.tenantId, personId, 'password_changed');
  });
  applyLocally(ctx, revocation);
  ctx.logger.info({ personId, actor: actorOf(caller) }, 'new temporary password issued');
  return { personId, temporary: true, expiresAt: expiresAt.toISOString(), delivery: { channel: 'email' as const, to: delivery.to } };
}
