import { DomainError } from '@roster/platform/errors';
import type { IdentityDb } from '../db/client.js';

/**
 * Password guessing limits (L8), kept per username *and client address*, and per address:
 * failures within a window count; past a free allowance each failure doubles the wait; at the
 * lockout count the key is locked. The username key is what was typed, whether or not it exists,
 * so the answers are the same for both.
 *
 * Nobody can lock someone else out (issue 15, OWASP's authentication guidance): failures from one
 * address never block the right password from an address that has not been failing. Guessing one
 * username from many addresses is still bounded: the username's failures from everywhere are
 * counted too, and past DISTRIBUTED_ATTACK_FAILURES an address is locked after its first
 * few failures for that username (DISTRIBUTED_POLICY), instead of after ten.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  lockoutAfter: number;
  lockoutSeconds: number;
}

/** Per username and address. */
export const USERNAME_POLICY: ThrottlePolicy = { freeFailures: 4, lockoutAfter: 10, lockoutSeconds: 15 * 60 };
/** Per username and address while the username is being guessed from many addresses. */
export const DISTRIBUTED_POLICY: ThrottlePolicy = { freeFailures: 0, lockoutAfter: 3, lockoutSeconds: 15 * 60 };
/** Failures of one username, from every address within the window, that make it a distributed attack. */
export const DISTRIBUTED_ATTACK_FAILURES = 50;
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
  new DomainError('rate_limited', 'too-many-attempts', 'Too many attempts', `too many failed logins: try again in ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds });

export interface ThrottleKey {
  key: string;
  /** Null: counted, never blocks by itself (a username's failures from every address). */
  policy: ThrottlePolicy | null;
}

/** The keys of an attempt: the username from this address (first), the address, the username anywhere (counted only). */
export const throttleKeys = (username: string, address: string): ThrottleKey[] => [
  { key: `ua:${username}|${address}`, policy: USERNAME_POLICY },
  { key: `ip:${address}`, policy: ADDRESS_POLICY },
  { key: `u:${username}`, policy: null },
];

/** Throws 429 when any key is blocked now. */
export async function assertNotThrottled(db: IdentityDb, keys: readonly ThrottleKey[]): Promise<void> {
  const rows = await db.loginThrottle.findMany({ where: { key: { in: keys.map((k) => k.key) }, blockedUntil: { gt: new Date() } } });
  if (rows.length === 0) return;
  const until = Math.max(...rows.map((r) => r.blockedUntil!.getTime()));
  throw tooManyAttempts(Math.max(1, Math.ceil((until - Date.now()) / 1000)));
}

export async function recordFailure(db: IdentityDb, keys: readonly ThrottleKey[]): Promise<void> {
  const count = async (key: string) => {
    const [row] = await db.$queryRawUnsafe<{ failures: number }[]>(
      `INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN login_throttle.last_failure_at < now() - make_interval(secs => $2) THEN 1 ELSE login_throttle.failures + 1 END,
         last_failure_at = now()
       RETURNING failures`,
      key, FAILURE_WINDOW_SECONDS,
    );
    return row?.failures ?? 1;
  };
  const everywhere = keys.find((k) => k.policy === null);
  const underAttack = everywhere ? (await count(everywhere.key)) >= DISTRIBUTED_ATTACK_FAILURES : false;
  for (const { key, policy } of keys) {
    if (!policy) continue;
    const failures = await count(key);
    const wait = backoffSeconds(failures, underAttack && policy === USERNAME_POLICY ? DISTRIBUTED_POLICY : policy);
    if (wait > 0) await db.loginThrottle.update({ where: { key }, data: { blockedUntil: new Date(Date.now() + wait * 1000) } });
  }
}

/** The right password from this address: its failures for this username are forgotten (not the other addresses'). */
export async function recordSuccess(db: IdentityDb, keys: readonly ThrottleKey[]): Promise<void> {
  await db.loginThrottle.deleteMany({ where: { key: keys[0]!.key } });
}
