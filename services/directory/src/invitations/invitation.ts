import { conflict } from '@roster/platform/errors';

/**
 * An invitation's life (P8), decided without I/O. Stored statuses are pending, accepted and
 * withdrawn; "expired" is a pending invitation whose link is past its expiry.
 */
export type StoredInvitationStatus = 'pending' | 'accepted' | 'withdrawn';
export type InvitationStatus = StoredInvitationStatus | 'expired';

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** How many people one request may invite. */
export const MAX_INVITEES = 100;

export interface InvitationState {
  status: StoredInvitationStatus;
  expiresAt: Date;
  acceptedPersonId: string | null;
}

export const statusAt = (s: InvitationState, now: Date): InvitationStatus =>
  s.status === 'pending' && s.expiresAt.getTime() <= now.getTime() ? 'expired' : s.status;

/** SMS when only a phone number is given, e-mail otherwise (an e-mail address wins when both are). */
export const channelFor = (invitee: { email?: string | null | undefined; phone?: string | null | undefined }): 'email' | 'sms' =>
  invitee.email ? 'email' : 'sms';

const refuse = (s: InvitationState, now: Date, doing: string) =>
  conflict(`the invitation is ${statusAt(s, now)}: it cannot be ${doing}`, { invitationStatus: statusAt(s, now) });

/** Rights (account, role) may be edited until the invitation is accepted or withdrawn; an expired one too (then resend it). */
export function decideEdit(s: InvitationState, now: Date): void {
  if (s.status !== 'pending') throw refuse(s, now, 'edited');
}

/** A resend issues a new token (the old link dies) and a new expiry, also for an expired invitation. */
export function decideResend(s: InvitationState, now: Date): { expiresAt: Date } {
  if (s.status !== 'pending') throw refuse(s, now, 'resent');
  return { expiresAt: new Date(now.getTime() + INVITATION_TTL_MS) };
}

export function decideWithdraw(s: InvitationState, now: Date): void {
  if (s.status !== 'pending') throw refuse(s, now, 'withdrawn');
}

export type AcceptanceDecision =
  | { outcome: 'accept' }
  | { outcome: 'already_accepted' }
  | { outcome: 'refused'; reason: string };

/**
 * Identity reports an acceptance at `acceptedAt` (the event's time, not the time it reaches us):
 * only a pending invitation still valid then may be accepted; a repeat by the same person is a no-op.
 */
export function decideAcceptance(s: InvitationState, personId: string, acceptedAt: Date): AcceptanceDecision {
  if (s.status === 'accepted') {
    return s.acceptedPersonId === personId
      ? { outcome: 'already_accepted' }
      : { outcome: 'refused', reason: 'the invitation was already accepted by someone else' };
  }
  if (s.status === 'withdrawn') return { outcome: 'refused', reason: 'the invitation was withdrawn' };
  if (statusAt(s, acceptedAt) === 'expired') return { outcome: 'refused', reason: `the invitation expired at ${s.expiresAt.toISOString()}` };
  return { outcome: 'accept' };
}
