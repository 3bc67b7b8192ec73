import type { Principal } from '@roster/platform/auth/claims';
import { unauthorized } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import { personAccess } from '../people/access.js';
import { applyLocally } from '../logins/manage.js';
import { endImpersonation, revokeAllSessions, revokeOneSession, type Revocation } from './revoke.js';
import { hashRefreshToken, newRefreshToken, signAccessToken, type SessionTokens } from './tokens.js';

const refused = () => unauthorized('the refresh token is not valid');

/**
 * `POST /sessions/refresh` (rule 7): rotates the refresh token and issues an access token with the
 * person's current roles. A refresh token used before is a stolen copy or a replay: the whole
 * family (the session) dies and `sessions.revoked` (refresh_token_reused) retires every access
 * token of the person. A session of a revoked person (login off, deactivated, archived, password
 * changed) cannot be refreshed either.
 */
export async function refreshSession(ctx: IdentityContext, refreshToken: string): Promise<SessionTokens> {
  const hash = hashRefreshToken(refreshToken);
  let revocation: Revocation | null = null;
  const outcome = await ctx.prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRawUnsafe<{ session_id: string; used_at: Date | null }[]>(
      'SELECT session_id::text AS session_id, used_at FROM refresh_token WHERE token_hash = $1 FOR UPDATE', hash,
    );
    if (!row) return null;
    const session = await tx.session.findUnique({ where: { id: row.session_id } });
    if (!session) return null;
    if (row.used_at) {
      if (!session.revokedAt) {
        revocation = await revokeAllSessions(tx, session.tenantId, session.personId, 'refresh_token_reused');
        ctx.logger.warn({ personId: session.personId, sessionId: session.id }, 'refresh token reused: every session of the person revoked');
      }
      return null;
    }
    if (session.revokedAt || session.expiresAt.getTime() <= Date.now()) return null;
    const login = await tx.login.findUnique({ where: { personId: session.personId } });
    const person = await personAccess(tx, session.tenantId, session.personId);
    const revokedAfter = login?.sessionsNotBefore && session.createdAt.getTime() < login.sessionsNotBefore.getTime();
    if (!login || !login.enabled || !person || person.status !== 'active' || revokedAfter) {
      await tx.session.update({ where: { id: session.id }, data: { revokedAt: new Date(), revokedReason: 'person_revoked' } });
      return null;
    }
    await tx.refreshToken.update({ where: { tokenHash: hash }, data: { usedAt: new Date() } });
    const next = newRefreshToken();
    await tx.refreshToken.create({ data: { tokenHash: next.hash, sessionId: session.id } });
    const passwordChangeRequired = login.passwordChangeRequired;
    const signed = signAccessToken(ctx, person, session.id, { passwordChangeRequired });
    return { accessToken: signed.token, refreshToken: next.token, expiresIn: signed.expiresIn, passwordChangeRequired, tokenType: 'Bearer' as const };
  });
  applyLocally(ctx, revocation);
  if (!outcome) throw refused();
  return outcome;
}

/**
 * `DELETE /sessions/current`: logout. An impersonation token has no session of its own (it expires
 * within minutes); ending it must not log the impersonated person out everywhere.
 */
export async function logout(ctx: IdentityContext, me: Principal): Promise<void> {
  if (me.impersonatorId) {
    const actor = { kind: 'person' as const, personId: me.personId, impersonatorId: me.impersonatorId };
    const ended = await ctx.prisma.$transaction((tx) => endImpersonation(tx, me.tenantId, me.sessionId, 'logout', actor));
    applyLocally(ctx, ended);
    ctx.logger.info({ personId: me.personId, impersonatorId: me.impersonatorId }, 'impersonation ended');
    return;
  }
  // Logging out also ends the impersonations this person is running: they act in the person's name.
  const revocations = await ctx.prisma.$transaction(async (tx) => {
    const own = await revokeOneSession(tx, me.tenantId, me.personId, me.sessionId);
    const running = await tx.impersonation.findMany({ where: { tenantId: me.tenantId, impersonatorId: me.personId, endedAt: null, expiresAt: { gt: new Date() } } });
    const ended: Revocation[] = [own];
    const actor = { kind: 'person' as const, personId: me.personId, impersonatorId: null };
    for (const i of running) {
      const revocation = await endImpersonation(tx, me.tenantId, i.id, 'impersonator_logout', actor);
      if (revocation) ended.push(revocation);
    }
    return ended;
  });
  for (const r of revocations) applyLocally(ctx, r);
  ctx.logger.info({ personId: me.personId, sessionId: me.sessionId, impersonationsEnded: revocations.length - 1 }, 'logged out');
}
