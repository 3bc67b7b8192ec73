import { startPeriodicJobs } from '@roster/platform/periodic';
import type { IdentityDb } from '../db/client.js';
import type { IdentityContext } from '../context.js';
import { FAILURE_WINDOW_SECONDS } from './throttle.js';

/**
 * Identity forgets what it no longer needs (issue 4, rule 7, L8): every login opens a session and
 * every refresh stores a refresh token, so without this the tables only grow.
 *
 * - A session that expired or was revoked is kept 7 days (SESSION_RETENTION_DAYS) for investigation
 *   (who was logged in, when and why it ended), then deleted with its refresh tokens. Forgetting them keeps
 *   replays refused: `refreshSession` answers 401 for an unknown token exactly as for one of an
 *   ended family. What is lost is only the side effect of replaying a *used* token of a family that
 *   expired (not revoked) without ever being revoked: it no longer revokes the person's other
 *   sessions. Those could not descend from the stolen token (a family never outlives its expiry),
 *   so nothing the thief holds survives either way.
 * - Used (rotated) refresh tokens of a live session are kept: reuse detection needs every one of
 *   them for as long as the family can still be refreshed (a stolen copy of any earlier token must
 *   kill the family), and a family lives at most REFRESH_TOKEN_TTL_MS, so they are bounded and go
 *   with their session.
 * - A login_throttle row whose last failure is older than the failure window counts as zero
 *   failures already (`recordFailure` restarts it at 1); once it is not blocked either, it says
 *   nothing and is deleted.
 *
 * The clean-up runs across all tenants on purpose: rows are chosen by age only, nothing is read
 * out or returned, and per-tenant passes would scan the same indexes once per tenant.
 */
const DAY_MS = 24 * 3_600_000;
/** The default retention of ended sessions; SESSION_RETENTION_DAYS sets another. */
export const SESSION_RETENTION_MS = 7 * DAY_MS;
/** Rows per statement: a huge backlog is removed in short transactions that never hold long locks. */
export const RETENTION_BATCH_SIZE = 5_000;

export interface RetentionSchedule {
  firstAfterMs: number;
  everyMs: number;
}

/** Shortly after start (a deploy clears a backlog), then every five minutes. */
export const RETENTION_SCHEDULE: RetentionSchedule = { firstAfterMs: 20_000, everyMs: 5 * 60_000 };

export interface RetentionOptions {
  now?: Date;
  retentionMs?: number;
  batchSize?: number;
  /** Asked between batches: a stopping service finishes the statement in flight, not the backlog. */
  keepGoing?: () => boolean;
}

/** What one run removed. */
export interface RetentionCounts {
  sessions: number;
  refreshTokens: number;
  loginThrottles: number;
  /** oidc-provider's expired sessions, interactions, grants, codes and tokens (issue 17). */
  openIdState: number;
}

/**
 * One clean-up run. Several replicas may run it at once: every batch locks the rows it deletes
 * with SKIP LOCKED, so concurrent runs share the backlog instead of queueing on each other's rows,
 * and a row already gone is simply not found again (the deletes are idempotent). A transaction
 * advisory lock would cover one batch only, and a session-level one would need a connection
 * pinned across the pool's statements.
 */
export async function runRetention(db: IdentityDb, options: RetentionOptions = {}): Promise<RetentionCounts> {
  const now = options.now ?? new Date();
  const endedBefore = new Date(now.getTime() - (options.retentionMs ?? SESSION_RETENTION_MS));
  const failuresBefore = new Date(now.getTime() - FAILURE_WINDOW_SECONDS * 1000);
  const batch = options.batchSize ?? RETENTION_BATCH_SIZE;
  const keepGoing = options.keepGoing ?? (() => true);

  // Tokens first, sessions once they have none left: a statement never deletes more than one
  // batch (a long-lived session may hold thousands of rotated tokens), and no token is ever left
  // without its session.
  const refreshTokens = await inBatches(batch, keepGoing, () => db.$executeRawUnsafe(
    `DELETE FROM refresh_token WHERE token_hash IN (
       SELECT t.token_hash FROM session s JOIN refresh_token t ON t.session_id = s.id
        WHERE s.expires_at < $1 OR s.revoked_at < $1
        LIMIT $2 FOR UPDATE OF t SKIP LOCKED)`,
    endedBefore, batch,
  ));
  const sessions = await inBatches(batch, keepGoing, () => db.$executeRawUnsafe(
    `DELETE FROM session WHERE id IN (
       SELECT s.id FROM session s
        WHERE (s.expires_at < $1 OR s.revoked_at < $1)
          AND NOT EXISTS (SELECT 1 FROM refresh_token t WHERE t.session_id = s.id)
        LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    endedBefore, batch,
  ));
  // No index on last_failure_at: every failed login rewrites it (an index would cost each one a
  // non-HOT update), and after each run the table holds only the last window's keys.
  const loginThrottles = await inBatches(batch, keepGoing, () => db.$executeRawUnsafe(
    `DELETE FROM login_throttle WHERE key IN (
       SELECT key FROM login_throttle
        WHERE last_failure_at < $1 AND (blocked_until IS NULL OR blocked_until <= $2)
        LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    failuresBefore, now, batch,
  ));
  // The OpenID Provider never reads an expired row again (its adapter filters them out).
  const openIdState = await inBatches(batch, keepGoing, () => db.$executeRawUnsafe(
    `DELETE FROM oidc_model WHERE (kind, id) IN (
       SELECT kind, id FROM oidc_model WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    now, batch,
  ));
  return { sessions, refreshTokens, loginThrottles, openIdState };
}

async function inBatches(batch: number, keepGoing: () => boolean, deleteOne: () => Promise<number>): Promise<number> {
  let total = 0;
  while (keepGoing()) {
    const removed = await deleteOne();
    total += removed;
    if (removed < batch) break;
  }
  return total;
}

/**
 * Identity's background clean-up (the service definition's `background`), on every replica, as a
 * platform periodic job: a failed run is logged and retried at the next tick; stop waits for the
 * batch in flight.
 */
export function startRetention(
  ctx: Pick<IdentityContext, 'prisma' | 'logger'> & { metrics?: IdentityContext['metrics']; config: Pick<IdentityContext['config'], 'sessionRetentionDays'> }, schedule: RetentionSchedule = RETENTION_SCHEDULE): { stop(): Promise<void> } {
  const days = ctx.config.sessionRetentionDays;
  const retentionMs = days === undefined ? SESSION_RETENTION_MS : days * DAY_MS;
  return startPeriodicJobs([{
    name: 'retention run', ...schedule,
    run: async (keepGoing) => {
      const started = Date.now();
      const removed = await runRetention(ctx.prisma, { retentionMs, keepGoing });
      if (removed.sessions + removed.refreshTokens + removed.loginThrottles > 0) {
        ctx.logger.info({ ...removed, durationMs: Date.now() - started }, 'retention: ended sessions and expired login failures removed');
      }
    },
  }], ctx.logger, ctx.metrics);
}
