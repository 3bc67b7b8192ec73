import type { Actor } from '@roster/contracts';
import { sessionSubject } from '@roster/platform/auth/not-before';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { SqlTx } from '@roster/platform/db/database';
import type { IdentityTx } from '../db/client.js';

export type RevocationReason = 'logout' | 'login_disabled' | 'deactivated' | 'archived' | 'password_changed' | 'refresh_token_reused' | 'access_changed';

export interface Revocation {
  personId: string;
  /** Whose tokens: the person's (every session), or one session's (`sessionSubject`). */
  subject: string;
  notBeforeMs: number;
  sessionCount: number;
}

/**
 * Ends every session of a person and announces `sessions.revoked` (B2): every service then refuses
 * the person's access tokens issued before now, and identity refuses their refresh tokens. The
 * caller raises identity's own not-before after commit (`ctx.auth.notBefore.raise`) so that its
 * next request already refuses them, before the event comes back from the bus.
 */
export async function revokeAllSessions(
  tx: SqlTx, tenantId: string, personId: string, reason: Exclude<RevocationReason, 'logout'>, now = new Date(),
): Promise<Revocation> {
  const count = await tx.$executeRawUnsafe(
    'UPDATE session SET revoked_at = $3, revoked_reason = $4 WHERE person_id = $1::uuid AND tenant_id = $2::uuid AND revoked_at IS NULL',
    personId, tenantId, now, reason,
  );
  await tx.$executeRawUnsafe('UPDATE login SET sessions_not_before = $3, updated_at = $3 WHERE person_id = $1::uuid AND tenant_id = $2::uuid', personId, tenantId, now);
  await announce(tx, tenantId, personId, reason, now, count);
  return { personId, subject: personId, notBeforeMs: now.getTime(), sessionCount: count };
}

/**
 * Logout (issue 16): ends this session only. Its refresh tokens die, and `sessions.revoked` with
 * its `sessionId` makes every service refuse the access tokens of this session (their `sid`); the
 * person's other sessions keep working.
 */
export async function revokeOneSession(tx: IdentityTx, tenantId: string, personId: string, sessionId: string, now = new Date()): Promise<Revocation> {
  const { count } = await tx.session.updateMany({ where: { id: sessionId, personId, tenantId, revokedAt: null }, data: { revokedAt: now, revokedReason: 'logout' } });
  await announce(tx, tenantId, personId, 'logout', now, count, sessionId);
  return { personId, subject: sessionSubject(sessionId), notBeforeMs: now.getTime(), sessionCount: count };
}

/**
 * Ending an impersonation (issue 15, L7, B5): its tokens (their `sid` is the impersonation's id)
 * are refused everywhere within a second, like any revocation; the impersonated person's own
 * sessions are untouched.
 */
export async function endImpersonation(
  tx: IdentityTx, tenantId: string, impersonationId: string, endedBy: 'logout' | 'impersonator_logout', actor: Actor, now = new Date(),
): Promise<Revocation | null> {
  const [open] = await tx.$queryRawUnsafe<{ personId: string; impersonatorId: string }[]>(
    `UPDATE impersonation SET expires_at = $3, ended_at = $3 WHERE id = $1::uuid AND tenant_id = $2::uuid AND ended_at IS NULL
     RETURNING person_id::text AS "personId", impersonator_id::text AS "impersonatorId"`,
    impersonationId, tenantId, now,
  );
  if (!open) return null; // already ended: nothing to announce twice
  await announce(tx, tenantId, open.personId, 'logout', now, 1, impersonationId);
  // On the audit trail of both people (issue 16 item 4).
  await stageEvents(tx, [eventFor('identity', {
    type: 'impersonation.ended', subject: open.personId, tenantId,
    data: { impersonationId, personId: open.personId, impersonatorId: open.impersonatorId, endedBy, endedAt: now.toISOString(), actor },
  })]);
  return { personId: open.personId, subject: sessionSubject(impersonationId), notBeforeMs: now.getTime(), sessionCount: 1 };
}

async function announce(
  tx: SqlTx, tenantId: string, personId: string, reason: RevocationReason, now: Date, sessionCount: number, sessionId?: string,
): Promise<void> {
  await stageEvents(tx, [revocationEvent(tenantId, personId, reason, now, sessionCount, sessionId)]);
}

const revocationEvent = (tenantId: string, personId: string, reason: RevocationReason, now: Date, sessionCount: number, sessionId?: string) => eventFor('identity', {
  type: 'sessions.revoked', subject: personId, tenantId,
  data: { personId, notBefore: now.toISOString(), reason, sessionCount, ...(sessionId ? { sessionId } : {}) },
});

/**
 * For a caller that ended a person's sessions and moved their `sessions_not_before` in a
 * statement of its own (the deactivation cascade): the revocation and its `sessions.revoked`, to stage with its other events.
 */
export function sessionsRevoked(tenantId: string, personId: string, reason: Exclude<RevocationReason, 'logout'>, now: Date, sessionCount: number) {
  return {
    revocation: { personId, subject: personId, notBeforeMs: now.getTime(), sessionCount } satisfies Revocation,
    announcement: revocationEvent(tenantId, personId, reason, now, sessionCount),
  };
}

export const SYSTEM: Actor = { kind: 'system', personId: null, impersonatorId: null };

/**
 * After a membership was removed or changed: directory's event already retired older tokens;
 * identity retires those it may have issued before its projection caught up. Sessions stay:
 * a refresh issues a token with the current roles. Null when the person has no login.
 */
export async function announceAccessChange(tx: SqlTx, tenantId: string, personId: string, now = new Date()): Promise<Revocation | null> {
  const login = await tx.$queryRawUnsafe<unknown[]>('SELECT 1 FROM login WHERE person_id = $1::uuid AND tenant_id = $2::uuid', personId, tenantId);
  if (login.length === 0) return null;
  await announce(tx, tenantId, personId, 'access_changed', now, 0);
  return { personId, subject: personId, notBeforeMs: now.getTime(), sessionCount: 0 };
}
