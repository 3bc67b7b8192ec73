import { randomUUID } from 'node:crypto';
import type { Principal } from '@roster/platform/auth/claims';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { refuseImpersonation, requirePermission } from '@roster/platform/auth/middleware';
import { badRequest, conflict, forbidden, notFound } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import { personAccess, rankOf, resolveRoles } from '../people/access.js';
import { signAccessToken } from '../sessions/tokens.js';

/** An impersonation lasts at most this long and cannot be refreshed (B5). */
export const IMPERSONATION_TTL_SECONDS = 15 * 60;
export const MIN_REASON_LENGTH = 10;

/**
 * L7, B5: an owner or admin (`impersonate`) acts as a user of their own tenant ranked no higher
 * than themselves, after stating why. The token carries `act` (the admin), lasts at most 15
 * minutes, has no refresh token, and cannot grant logins, impersonate or change passwords. Both
 * ids are logged and kept.
 */
export async function impersonate(ctx: IdentityContext, me: Principal, personId: string, reason: string) {
  requirePermission(me, 'impersonate');
  refuseImpersonation(me, 'impersonating');
  if (reason.trim().length < MIN_REASON_LENGTH) throw badRequest(`say why (reason: at least ${MIN_REASON_LENGTH} characters); it is kept in the audit trail`);
  if (personId === me.personId) throw badRequest('you cannot impersonate yourself');
  const started = await ctx.prisma.$transaction(async (tx) => {
    const target = await personAccess(tx, me.tenantId, personId);
    if (!target) throw notFound(`person ${personId}`);
    if (target.status !== 'active') throw conflict(`person ${personId} is ${target.status}`);
    const login = await tx.login.findUnique({ where: { personId } });
    if (!login || !login.enabled) throw conflict(`person ${personId} has no login that is switched on`);
    const mine = await resolveRoles(tx, me.tenantId, me.roles);
    if (rankOf(target.roles) > rankOf(mine)) throw forbidden('nobody may impersonate a more privileged user');
    const id = randomUUID();
    const signed = signAccessToken(ctx, target, id, { impersonatorId: me.personId, ttlSeconds: IMPERSONATION_TTL_SECONDS });
    const expiresAt = new Date(Date.now() + signed.expiresIn * 1000);
    await tx.impersonation.create({
      data: { id, tenantId: me.tenantId, impersonatorId: me.personId, personId, reason: reason.trim(), expiresAt },
    });
    // On the audit trail of both people, not only in a log line (issue 16 item 4).
    await stageEvents(tx, [eventFor('identity', {
      type: 'impersonation.started', subject: personId, tenantId: me.tenantId,
      data: {
        impersonationId: id, personId, impersonatorId: me.personId, reason: reason.trim(), expiresAt: expiresAt.toISOString(),
        actor: { kind: 'person', personId: me.personId, impersonatorId: null },
      },
    })]);
    return { accessToken: signed.token, expiresIn: signed.expiresIn, tokenType: 'Bearer' as const, impersonationId: id, personId, impersonatorId: me.personId };
  });
  ctx.relay.nudge();
  ctx.logger.info({ impersonationId: started.impersonationId, impersonatorId: me.personId, personId, reason: reason.trim() }, 'impersonation started');
  return started;
}
