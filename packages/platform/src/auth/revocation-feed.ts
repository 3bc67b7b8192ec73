import type { RosterEvent } from '@roster/contracts';
import type { SubscriptionOptions, BusLogger } from '../bus/types.js';
import type { SqlClient } from '../db/database.js';
import { persistNotBefore, sessionSubject, type NotBeforeList } from './not-before.js';

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

export interface RevocationFeedOptions {
  db: SqlClient;
  notBefore: NotBeforeList;
  logger: BusLogger;
  onRevoked?(reason: string): void;
}

/**
 * Every replica of every service gets every revocation (broadcast delivery) and raises the
 * subject's not-before in memory at once, then persists it so a replica started later knows it.
 */
export function revocationSubscription(o: RevocationFeedOptions): Omit<SubscriptionOptions, 'group'> {
  return {
    types: REVOCATION_EVENT_TYPES,
    delivery: 'broadcast',
    handler: async (event) => {
      const revocation = revocationOf(event);
      if (!revocation || Number.isNaN(revocation.atMs)) return;
      if (o.notBefore.raise(revocation.subject, revocation.atMs)) {
        o.logger.info({ subject: revocation.subject, reason: revocation.reason, eventId: event.id }, 'tokens revoked');
        o.onRevoked?.(revocation.reason);
      }
      await persistNotBefore(o.db, revocation.subject, revocation.atMs, revocation.reason);
    },
  };
}
