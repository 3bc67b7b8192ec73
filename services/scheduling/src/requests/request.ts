import type { RequestKind } from '@roster/contracts';
import { conflict, DomainError, forbidden, type ErrorKind } from '@roster/platform/errors';

/** A client's request (S3) as its commands decide on it. Pure: tested without a database. */
export type RequestStatus = 'pending' | 'approved' | 'declined' | 'withdrawn';
export const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'declined', 'withdrawn'];

export interface RequestedVisit {
  startsAt: Date;
  endsAt: Date;
  service?: string | undefined;
}

export interface Submission {
  kind: RequestKind;
  /** Omitted by a client (themselves); required of a manager asking on a client's behalf. */
  clientId?: string | undefined;
  visits?: RequestedVisit[] | undefined;
  visitId?: string | undefined;
}

/** Who asks: a client for themselves (requests.submit_own), or someone who manages visits. */
export interface RequestActor {
  personId: string;
  kind: 'client' | 'staff';
  submitsOwn: boolean;
  manages: boolean;
}

const invalid = (kind: ErrorKind, slug: string, path: string, detail: string) =>
  new DomainError(kind, slug, kind === 'forbidden' ? 'Forbidden' : 'Request not acceptable', detail, { errors: [{ path, message: detail }] });

/**
 * Whose request it is and whether what it asks can be asked now: a client asks for themselves, a
 * manager for a client they name; every window asked for lies in the future. Returns the client id.
 */
export function decideSubmission(s: Submission, actor: RequestActor, now: Date): string {
  let clientId: string;
  if (actor.kind === 'client' && (s.clientId === undefined || s.clientId === actor.personId)) {
    if (!actor.submitsOwn && !actor.manages) throw forbidden('asking for visits needs the permission requests.submit_own, which your roles do not grant');
    clientId = actor.personId;
  } else if (actor.manages) {
    if (!s.clientId) throw invalid('invalid', 'client-required', 'body.clientId', 'clientId is required when asking on a client\'s behalf');
    clientId = s.clientId;
  } else {
    throw forbidden('a client asks only for themselves; asking for another client needs the permission visits.manage');
  }
  (s.visits ?? []).forEach((v, i) => {
    if (v.startsAt <= now) {
      throw invalid('unprocessable', 'window-in-the-past', `body.visits[${i}].startsAt`, `visit ${i + 1} starts at ${v.startsAt.toISOString()}, which has passed: ask for a time to come`);
    }
  });
  return clientId;
}

/** At approval: a window asked for that has passed meanwhile cannot be booked (the manager declines it). */
export function requireWindowsAhead(visits: readonly { startsAt: string }[], now: Date): void {
  const passed = visits.find((v) => new Date(v.startsAt) <= now);
  if (passed) throw conflict(`the visit asked for at ${passed.startsAt} has passed: decline the request, saying so`, { state: 'window_passed' });
}

/** The visit a change or a cancellation is about, as the request sees it when submitted or approved. */
export interface TargetVisit {
  clientId: string;
  status: 'scheduled' | 'completed';
  startsAt: Date;
}

/**
 * Whether a change or cancellation of `visit` may be asked (or carried out) at `now`: the visit
 * must be the client's, not completed and not begun. A visit of another client reads as none.
 */
export function decideTargetVisit(visitId: string, visit: TargetVisit | null, clientId: string, now: Date): void {
  if (!visit || visit.clientId !== clientId) throw invalid('not_found', 'visit-unknown', 'body.visitId', `the client has no visit ${visitId}`);
  if (visit.status === 'completed') throw conflict(`visit ${visitId} is completed: it can no longer change`, { state: 'completed' });
  if (visit.startsAt <= now) throw conflict(`visit ${visitId} began at ${visit.startsAt.toISOString()}: it can no longer change`, { state: 'started' });
}

/** Why the system declines a request about a visit (S3): it is gone or done. */
export function goneVisitReason(visit: TargetVisit | null): string | null {
  if (!visit) return 'the visit no longer exists';
  if (visit.status === 'completed') return 'the visit was completed';
  return null;
}

export interface RequestState {
  status: RequestStatus;
  clientId: string;
}

export type RequestCommand = { type: 'approve' } | { type: 'decline'; reason: string } | { type: 'withdraw' };

/**
 * Decides an answer to a request, or refuses it: a request is answered once (409 that changes
 * nothing), managers approve and decline, the client (or a manager) withdraws a pending one.
 */
export function decideRequest(state: RequestState, command: RequestCommand, actor: RequestActor): RequestCommand {
  if (command.type === 'withdraw') {
    if (state.clientId !== actor.personId && !actor.manages) throw forbidden('only the client who asked, or a manager (visits.manage), may withdraw a request');
  } else if (!actor.manages) {
    throw forbidden(`${command.type === 'approve' ? 'approving' : 'declining'} a request needs the permission visits.manage`);
  }
  if (state.status !== 'pending') throw conflict(`the request was already ${state.status}: it is answered once`, { state: state.status });
  return command;
}
