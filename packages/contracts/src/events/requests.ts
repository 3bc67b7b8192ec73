import { z } from 'zod';
import { actor, id, isoTime } from './common.js';

/**
 * Client requests (S3), produced by scheduling. Subject: the client id, so that a request and the
 * client's own cascade stay in order (rule 3).
 */
export const requestKind = z.enum(['visits', 'change', 'cancel']);
export type RequestKind = z.infer<typeof requestKind>;

/** A visit as the client asks for it: a time window and, optionally, the service. */
export const requestedVisit = z.object({
  startsAt: isoTime,
  endsAt: isoTime,
  service: z.string().max(100).nullable(),
});

/** A client (or a manager on their behalf) asked for visits, a change or a cancellation; the managers' monitors hear it. */
export const requestSubmitted = z.object({
  requestId: id,
  clientId: id,
  /** As scheduling knows it, for the monitors' e-mail; null when it has no name yet. */
  clientName: z.string().max(201).nullable(),
  kind: requestKind,
  /** What was asked: new visits (kind visits) or the new window of `visitId` (kind change); empty for a cancellation. */
  visits: z.array(requestedVisit).max(20),
  /** The visit to change or cancel. */
  visitId: id.nullable(),
  note: z.string().max(1000).nullable(),
  timeZone: z.string().max(64),
  actor,
});

/** A manager approved a request: the visits it names were created, moved or cancelled. */
export const requestApproved = z.object({
  requestId: id,
  clientId: id,
  kind: requestKind,
  /** The visits created (kind visits), moved (change) or cancelled (cancel). */
  visitIds: z.array(id).max(20),
  /**
   * The windows now booked (kind visits, change), for the client's confirmation; empty for a
   * cancellation. Optional: added after the first version (the evolution rule), always sent now.
   */
  visits: z.array(requestedVisit).max(20).optional(),
  timeZone: z.string().max(64).optional(),
  /** The sitter the new visits went to (the client's default sitter), or null: they need one. */
  sitterId: id.nullable(),
  actor,
});

/** A request was declined: by a manager with a reason, or by the system (the visit it was about is gone). */
export const requestDeclined = z.object({
  requestId: id,
  clientId: id,
  kind: requestKind,
  reason: z.string().min(1).max(500),
  actor,
});
