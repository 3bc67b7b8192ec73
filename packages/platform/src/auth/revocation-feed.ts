import type { RosterEvent } from '@roster/contracts';
import type { SubscriptionOptions, BusLogger } from '../bus/types.js';
import type { SqlClient } from '../db/database.js';
import { BusyLinger } from '../linger.js';
import { persistNotBefores, sessionSubject, type NotBeforeList } from './not-before.js';

/** Events after which a person's existing tokens must be refused everywhere (B2, cascade table). */
export const REVOCATION_EVENT_TYPES = [
  'sessions.revoked', 'login.disabled', 'user.deactivated', 'user.archived', 'access.revoked', 'role.changed',
] as const;

/** The subject (a person id, or a session's key) and instant a revocation event sets, or null for other events. */
export function revocationOf(event: RosterEvent): { subject: string; atMs: number; reason: string } | null {
  switch (event.type) {
    case 'sessions.revoked':
      return { subject: event.data.sessionId ? sessionSubject(event.data.sessionId) : event.data.personId, atMs: Date.parse(event.data.notBefore), reason: event.data.reason };
    case 'access.revoked':
    case 'role.changed':
      return { subject: event.data.personId, atMs: Date.parse(event.data.notBefore), reason: event.type };
    case 'login.disabled':
    case 'user.deactivated':
    case 'user.archived':
      return { subject: event.data.personId, atMs: Date.parse(event.time), reason: event.type };
    default:
      return null;
  }
}

/**
 * The producer's own replica refuses at once what the events it just committed revoke, without
 * waiting for them to come back through the bus and its revocation feed (which persists them).
 */
export function revokeLocally(notBefore: NotBeforeList, events: readonly RosterEvent[], onRevoked?: (reason: string) => void): void {
  for (const event of events) {
    const revocation = revocationOf(event);
    if (revocation && !Number.isNaN(revocation.atMs) && notBefore.raise(revocation.subject, revocation.atMs)) onRevoked?.(revocation.reason);
  }
}

export interface RevocationFeedOptions {
  db: SqlClient;
  notBefore: NotBeforeList;
  logger: BusLogger;
  onRevoked?(reason: string): void;
  /** While busy, how long a persist waits for more revocations to write with it (BusyLinger; ms, default 0). */
  lingerMs?: number;
}

/**
 * Every replica of every service gets every revocation (broadcast delivery) and raises the
 * subject's not-before in memory at once, then persists it so a replica started later knows it.
 * The persists are group-committed: the revocations that arrive while one statement runs go
 * together in the next (one commit for many, not one per event: under a load of cascades the
 * feed's handlers would otherwise wait in line for the pool, and the in-memory raise behind them).
 * A delivery is acknowledged only once its not-before is persisted; while busy a persist lingers
 * for more (the in-memory raise never waits for it).
 */
export function revocationSubscription(o: RevocationFeedOptions): Omit<SubscriptionOptions, 'group'> {
  const persist = groupCommit<{ subject: string; atMs: number; reason: string }>((batch) => persistNotBefores(o.db, batch), new BusyLinger(o.lingerMs ?? 0));
  return {
    types: REVOCATION_EVENT_TYPES,
    delivery: 'broadcast',
    // Many in flight: a delivery is raised in memory when its handler starts, not after the
    // persists ahead of it (which wait for a connection while the service is busy).
    concurrency: 256,
    handler: async (event) => {
      const revocation = revocationOf(event);
      if (!revocation || Number.isNaN(revocation.atMs)) return;
      if (o.notBefore.raise(revocation.subject, revocation.atMs)) {
        o.logger.info({ subject: revocation.subject, reason: revocation.reason, eventId: event.id }, 'tokens revoked');
        o.onRevoked?.(revocation.reason);
      }
      await persist(revocation);
    },
  };
}

/** Calls `write` with everything queued while the previous call ran (or its linger); each caller resolves when its item is written. */
function groupCommit<T>(write: (batch: T[]) => Promise<void>, linger: BusyLinger): (item: T) => Promise<void> {
  let waiting: { item: T; resolve(): void; reject(error: unknown): void }[] = [];
  let running = false;
  const drain = async () => {
    while (waiting.length > 0) {
      await linger.beforeBatch();
      const batch = waiting;
      waiting = [];
      try {
        await write(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    running = false;
  };
  return (item) => new Promise<void>((resolve, reject) => {
    waiting.push({ item, resolve, reject });
    if (!running) {
      running = true;
      setImmediate(() => void drain());
    }
  });
}
