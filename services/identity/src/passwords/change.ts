import type { Actor } from '@roster/contracts';
import type { Principal } from '@roster/platform/auth/claims';
import type { IdentityTx } from '../db/client.js';
import { refuseImpersonation } from '@roster/platform/auth/middleware';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { badRequest, DomainError, notFound } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import { personAccess } from '../people/access.js';
import { applyLocally, signOutLocally } from '../logins/manage.js';
import { actorOf, personCaller } from '../logins/caller.js';
import { revokeAllSessions, type Revocation } from '../sessions/revoke.js';
import { assertNotThrottled, recordFailure, recordSuccess, throttleKeys } from '../sessions/throttle.js';
import { openSession, type SessionTokens } from '../sessions/tokens.js';
import { invalidCredentials } from '../sessions/login.js';
import { hashPassword, passwordMatches } from './hashing.js';
import { checkPassword, REJECTION_DETAIL } from './policy.js';

/**
 * `PUT /password` (L3): sets the person's own password. After a temporary password the token
 * itself is the proof (it could only be obtained with it); otherwise the current password is
 * required. Every session ends (`sessions.revoked` password_changed) and a fresh one is returned.
 */
export async function changePassword(
  ctx: IdentityContext, me: Principal, input: { currentPassword?: string | undefined; newPassword: string; address: string },
): Promise<SessionTokens> {
  refuseImpersonation(me, 'changing a password');
  const login = await ctx.prisma.login.findFirst({ where: { personId: me.personId, tenantId: me.tenantId } });
  if (!login) throw notFound('your login');
  const rejection = checkPassword(input.newPassword, login.username);
  if (rejection) throw new DomainError('invalid', 'weak-password', 'Password refused', REJECTION_DETAIL[rejection], { reason: rejection });
  const viaTemporary = me.passwordChangeRequired && login.passwordChangeRequired;
  if (!viaTemporary) {
    if (input.currentPassword === undefined) throw badRequest('give currentPassword to change your password');
    const keys = throttleKeys(login.username, input.address);
    await assertNotThrottled(ctx.prisma, keys);
    if (!(await passwordMatches(login.passwordHash, input.currentPassword))) {
      await recordFailure(ctx.prisma, keys);
      throw invalidCredentials();
    }
    await recordSuccess(ctx.prisma, keys);
  }
  const passwordHash = await hashPassword(input.newPassword);
  let revocation: Revocation | null = null;
  const tokens = await ctx.prisma.$transaction(async (tx) => {
    revocation = await storeOwnPassword(tx, login, passwordHash, actorOf(personCaller(me)));
    const person = await personAccess(tx, me.tenantId, me.personId);
    if (!person) throw notFound('your person record');
    const opened = await openSession(ctx, tx, person, false);
    if (!opened) throw new Error('the new session was not opened');
    return opened;
  });
  applyLocally(ctx, revocation);
  ctx.logger.info({ personId: me.personId }, 'password changed');
  return tokens;
}

/**
 * The person's own new password, in the caller's transaction: no longer temporary, every session
 * ended (`sessions.revoked` password_changed), `password.reset` (changed) staged. Shared by
 * `PUT /password` and the hosted first sign-in (issue 17).
 */
export async function storeOwnPassword(
  tx: IdentityTx, login: { personId: string; tenantId: string; username: string }, passwordHash: string, actor: Actor,
): Promise<Revocation | null> {
  const now = new Date();
  await tx.login.update({
    where: { personId: login.personId },
    data: { passwordHash, passwordTemporary: false, temporaryExpiresAt: null, passwordChangeRequired: false, updatedAt: now },
  });
  const revocation = await revokeAllSessions(tx, login.tenantId, login.personId, 'password_changed', now);
  await stageEvents(tx, [eventFor('identity', {
    type: 'password.reset', subject: login.personId, tenantId: login.tenantId,
    data: { personId: login.personId, username: login.username, reason: 'changed', temporary: false, expiresAt: null, delivery: null, secret: null, actor },
  })]);
  return revocation;
}

export type OwnPasswordOutcome = { stored: true } | { refused: string } | { expired: true };

/**
 * The second step of a hosted sign-in with a temporary password (L3, L5: the sign-in page and
 * /account): the two entries must agree and pass the policy; only while the temporary password is
 * used up and not yet replaced (its hash is gone) may the person set their own. Once stored, they
 * are signed out of every application before the caller goes on, so that a session opened next is
 * never caught by it.
 */
export async function chooseOwnPassword(
  ctx: IdentityContext, who: { personId: string; tenantId: string; username: string }, newPassword: string, confirmation: string,
): Promise<OwnPasswordOutcome> {
  if (newPassword !== confirmation) return { refused: 'The two passwords differ.' };
  const rejection = checkPassword(newPassword, who.username);
  if (rejection) return { refused: REJECTION_DETAIL[rejection] };
  const login = await ctx.prisma.login.findFirst({ where: { personId: who.personId, tenantId: who.tenantId } });
  if (!login || login.passwordHash !== null) return { expired: true };
  const passwordHash = await hashPassword(newPassword);
  const revocation = await ctx.prisma.$transaction((tx) => storeOwnPassword(tx, login, passwordHash, { kind: 'person', personId: login.personId, impersonatorId: null }));
  await signOutLocally(ctx, revocation);
  return { stored: true };
}
