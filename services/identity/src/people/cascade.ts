import type { EventOf } from '@roster/contracts';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { BusLogger } from '@roster/platform/bus/types';
import type { CascadeEffect, PersonEvent, PersonLifecycle } from '@roster/platform/people-projection';
import type { SqlTx } from '@roster/platform/db/database';
import { revokeAllSessions, sessionsRevoked, SYSTEM, type Revocation } from '../sessions/revoke.js';
import { applyProfile } from './projection.js';

/** What identity did (or would do) for one person event: the step's name, counts and detail. */
export interface IdentityStep {
  step: string;
  counts: Record<string, number>;
  detail?: string;
  revocation?: Revocation | null;
}

/** A password hash nothing matches (P6): not an argon2 string, so verification always fails. */
export const UNUSABLE_PASSWORD = '!unusable';

const activeSessions = async (tx: SqlTx, personId: string): Promise<number> => {
  const [row] = await tx.$queryRawUnsafe<{ n: number }[]>(
    'SELECT count(*)::int AS n FROM session WHERE person_id = $1::uuid AND revoked_at IS NULL AND expires_at > now()', personId,
  );
  return row?.n ?? 0;
};

/** The person's login as the cascade needs it; null when they have none. */
const loginOf = async (tx: SqlTx, personId: string, tenantId: string) => {
  const [login] = await tx.$queryRawUnsafe<{ username: string; enabled: boolean }[]>(
    'SELECT username, enabled FROM login WHERE person_id = $1::uuid AND tenant_id = $2::uuid', personId, tenantId,
  );
  return login ?? null;
};

/**
 * user.deactivated: the login switched off and every session ended in one statement, the two
 * events staged in one more (issue 19: a statement per event is what a cascade costs).
 */
async function refuseLogins(tx: SqlTx, tenantId: string, personId: string): Promise<IdentityStep> {
  const now = new Date();
  const [login] = await tx.$queryRawUnsafe<{ username: string; enabled: boolean; sessions: number }[]>(
    `WITH before AS (SELECT username, enabled FROM login WHERE person_id = $1::uuid AND tenant_id = $2::uuid FOR UPDATE),
          ended AS (UPDATE session SET revoked_at = $3, revoked_reason = 'deactivated'
                     WHERE person_id = $1::uuid AND tenant_id = $2::uuid AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM before) RETURNING 1),
          switched AS (UPDATE login SET enabled = false, sessions_not_before = $3, updated_at = $3
                        WHERE person_id = $1::uuid AND tenant_id = $2::uuid RETURNING 1)
     SELECT username, enabled, (SELECT count(*) FROM ended)::int AS sessions FROM before`,
    personId, tenantId, now,
  );
  if (!login) return { step: 'refuse_logins', counts: { peopleBlocked: 1, loginsDisabled: 0, sessionsRevoked: 0 }, detail: 'no login' };
  const revocation = sessionsRevoked(tenantId, personId, 'deactivated', now, login.sessions);
  await stageEvents(tx, [
    // The switch is announced like an admin's (issue 16 item 1): the directory's loginEnabled follows it.
    ...(login.enabled ? [eventFor('identity', { type: 'login.disabled', subject: personId, tenantId, data: { personId, username: login.username, actor: SYSTEM } })] : []),
    revocation.announcement,
  ]);
  return { step: 'refuse_logins', counts: { peopleBlocked: 1, loginsDisabled: login.enabled ? 1 : 0, sessionsRevoked: login.sessions }, revocation: revocation.revocation };
}

/**
 * Identity's column of the cascade table. The projection's status already refuses logins of an
 * inactive person; these add what identity owns: the login switched off, sessions ended (with
 * `sessions.revoked`, which also retires any token issued between the directory's change and now),
 * the password made unusable on archive.
 */
export async function reactToPersonEvent(tx: SqlTx, event: PersonEvent): Promise<IdentityStep | null> {
  const personId = event.data.personId;
  const tenantId = event.tenantid;
  if (event.type === 'user.deactivated') return refuseLogins(tx, tenantId, personId);
  const login = await loginOf(tx, personId, tenantId);
  switch (event.type) {
    case 'user.archived': {
      if (!login) return { step: 'make_password_unusable', counts: { peopleBlocked: 1, passwordsReset: 0, sessionsRevoked: 0 }, detail: 'no login' };
      await tx.$executeRawUnsafe(
        `UPDATE login SET password_hash = $3, password_temporary = false, temporary_expires_at = NULL, password_change_required = false, updated_at = now()
         WHERE person_id = $1::uuid AND tenant_id = $2::uuid`,
        personId, tenantId, UNUSABLE_PASSWORD,
      );
      const revocation = await revokeAllSessions(tx, tenantId, personId, 'archived');
      await stageEvents(tx, [eventFor('identity', {
        type: 'password.reset', subject: personId, tenantId,
        data: { personId, username: login.username, reason: 'archived', temporary: false, expiresAt: null, delivery: null, secret: null, actor: SYSTEM },
      })]);
      return { step: 'make_password_unusable', counts: { peopleBlocked: 1, passwordsReset: 1, sessionsRevoked: revocation.sessionCount }, revocation };
    }
    case 'user.reactivated':
      return {
        step: 'keep_login_as_is', counts: { peopleUnblocked: 1 },
        detail: !login ? 'no login'
          : login.enabled ? 'the login stays as it is: switched on'
          : 'the login stays as it is: switched off (by the deactivation); an admin switches it on with PATCH /logins/{personId}',
      };
    case 'user.restored':
      return {
        step: 'require_new_password', counts: { peopleUnblocked: 1 },
        detail: login ? 'no usable password until an admin issues a new one (POST /logins/{personId}/new-password)' : 'no login',
      };
    default:
      return null;
  }
}

/** B1: what a deactivation or archive would do, changing nothing. */
export async function previewPersonEvent(tx: SqlTx, event: EventOf<'cascade.preview_requested'>): Promise<IdentityStep> {
  const { personId, action } = event.data;
  const login = await loginOf(tx, personId, event.tenantid);
  const sessionsRevoked = login ? await activeSessions(tx, personId) : 0;
  if (action === 'archive') {
    return { step: 'make_password_unusable', counts: { peopleBlocked: 1, passwordsReset: login ? 1 : 0, sessionsRevoked } };
  }
  return { step: 'refuse_logins', counts: { peopleBlocked: 1, loginsDisabled: login?.enabled ? 1 : 0, sessionsRevoked } };
}

/**
 * Identity's column of the cascade table on the platform's person lifecycle mechanism (inbox,
 * versioned projection, stale events reported, one step per effect); names and addresses follow
 * their own profile version, so an older `user.updated` never overwrites a newer one.
 */
export function personLifecycle(logger: BusLogger, revokeLocally: (revocation: Revocation) => void): PersonLifecycle<IdentityStep, SqlTx> {
  const effect = (step: string): CascadeEffect<IdentityStep, SqlTx> => ({ step, apply: reactToPersonEvent });
  return {
    service: 'identity',
    logger,
    effects: {
      'user.deactivated': effect('refuse_logins'), 'user.archived': effect('make_password_unusable'),
      'user.reactivated': effect('keep_login_as_is'), 'user.restored': effect('require_new_password'),
    },
    preview: previewPersonEvent,
    recordProfile: async (tx, event) => {
      if (event.type === 'user.created' || event.type === 'user.updated') await applyProfile(tx, event);
    },
    // Identity's own replicas refuse the revoked sessions once they are committed, without the bus's round trip.
    onApplied: (report, _event, { afterCommit }) => {
      const revocation = report.revocation;
      if (revocation) afterCommit(() => revokeLocally(revocation));
    },
  };
}
