import { HttpProblem } from '@roster/platform/http/problem';
import type { IdentityDb } from '../db/client.js';

/**
 * Password guessing limits (L8), per username (whether or not it exists: the key is what was
 * typed, so the answers are the same) and per client address. Failures within a window count;
 * past a free allowance each failure doubles the wait; at the lockout count the key is locked.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  lockoutAfter: number;
  lockoutSeconds: number;
}

export const USERNAME_POLICY: ThrottlePolicy = { freeFailures: 4, lockoutAfter: 10, lockoutSeconds: 15 * 60 };
export const ADDRESS_POLICY: ThrottlePolicy = { freeFailures: 50, lockoutAfter: 200, lockoutSeconds: 15 * 60 };
/** Failures older than this are forgotten. */
export const FAILURE_WINDOW_SECONDS = 15 * 60;

/** Seconds to wait after the `failures`-th failure (pure). */
export function backoffSeconds(failures: number, policy: ThrottlePolicy): number {
  if (failures >= policy.lockoutAfter) return policy.lockoutSeconds;
  if (failures <= policy.freeFailures) return 0;
  return Math.min(policy.lockoutSeconds, 2 ** (failures - policy.freeFailures - 1));
}

export const tooManyAttempts = (retryAfterSeconds: number) =>
  new HttpProblem(429, 'too-many-attempts', 'Too many attempts', `too many failed logins: try again in ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds });

export interface ThrottleKey {
  key: string;
  policy: ThrottlePolicy;
}

export const throttleKeys = (username: string, address: string): ThrottleKey[] => [
  { key: `u:${username}`, policy: USERNAME_POLICY },
  { key: `ip:${address}`, policy: ADDRESS_POLICY },
];

/** Throws 429 when any key is blocked now. */
export async function assertNotThrottled(db: IdentityDb, keys: readonly ThrottleKey[]): Promise<void> {
  const rows = await db.loginThrottle.findMany({ where: { key: { in: keys.map((k) => k.key) }, blockedUntil: { gt: new Date() } } });
  if (rows.length === 0) return;
  const until = Math.max(...rows.map((r) => r.blockedUntil!.getTime()));
  throw tooManyAttempts(Math.max(1, Math.ceil((until - Date.now()) / 1000)));
}

export async function recordFailure(db: IdentityDb, keys: readonly ThrottleKey[]): Promise<void> {
  for (const { key, policy } of keys) {
    const [row] = await db.$queryRawUnsafe<{ failures: number }[]>(
      `INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN login_throttle.last_failure_at < now() - make_interval(secs => $2) THEN 1 ELSE login_throttle.failures + 1 END,
         last_failure_at = now()
       RETURNING failures`,
      key, FAILURE_WINDOW_SECONDS,
    );
    const wait = backoffSeconds(row?.failures ?? 1, policy);
    if (wait > 0) await db.loginThrottle.update({ where: { key }, data: { blockedUntil: new Date(Date.now() + wait * 1000) } });
  }
}

export async function recordSuccess(db: IdentityDb, username: string): Promise<void> {
  await db.loginThrottle.deleteMany({ where: { key: `u:${username}` } });
}
