import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DomainError } from '@roster/platform/errors';
import {
  channelFor, decideAcceptance, decideEdit, decideResend, decideWithdraw, INVITATION_TTL_MS, statusAt, type InvitationState,
} from '../src/invitations/invitation.js';
import { hashToken, newAcceptanceToken } from '../src/invitations/token.js';

const now = new Date('2026-12-01T10:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const pending = (expiresAt = later(INVITATION_TTL_MS)): InvitationState => ({ status: 'pending', expiresAt, acceptedPersonId: null });
const conflictNaming = (status: string) => (e: unknown) => e instanceof DomainError && e.kind === 'conflict' && e.message.includes(status);

// P8 as given/when/then: given an invitation's state, when a command or an acceptance arrives, then what it may do.
describe('invitation life (P8)', () => {
  it('given a pending invitation past its expiry, then it shows as expired', () => {
    assert.equal(statusAt(pending(later(-1)), now), 'expired');
    assert.equal(statusAt(pending(later(1)), now), 'pending');
  });

  it('given a pending invitation, when resent, then it expires seven days from now', () => {
    assert.deepEqual(decideResend(pending(later(-5)), now), { expiresAt: later(7 * 24 * 3600 * 1000) });
  });

  for (const status of ['accepted', 'withdrawn'] as const) {
    it(`given the invitation is ${status}, when edited, resent or withdrawn, then 409 naming the status`, () => {
      const s: InvitationState = { status, expiresAt: later(1000), acceptedPersonId: null };
      assert.throws(() => decideEdit(s, now), conflictNaming(status));
      assert.throws(() => decideResend(s, now), conflictNaming(status));
      assert.throws(() => decideWithdraw(s, now), conflictNaming(status));
    });
  }

  it('given a pending invitation, when accepted before its expiry, then it is accepted', () => {
    assert.deepEqual(decideAcceptance(pending(), 'p1', later(1000)), { outcome: 'accept' });
  });

  it('given an invitation that expired, when identity reports an acceptance made after the expiry, then it is refused', () => {
    const d = decideAcceptance(pending(later(1000)), 'p1', later(2000));
    assert.equal(d.outcome, 'refused');
    assert.match(d.outcome === 'refused' ? d.reason : '', /expired/);
  });

  it('given a withdrawn invitation, when an acceptance arrives, then it is refused', () => {
    assert.deepEqual(decideAcceptance({ ...pending(), status: 'withdrawn' }, 'p1', now), { outcome: 'refused', reason: 'the invitation was withdrawn' });
  });

  it('given an invitation accepted by p1, when p1 accepts again it is a no-op; when p2 does, refused', () => {
    const s: InvitationState = { status: 'accepted', expiresAt: later(1000), acceptedPersonId: 'p1' };
    assert.deepEqual(decideAcceptance(s, 'p1', now), { outcome: 'already_accepted' });
    assert.equal(decideAcceptance(s, 'p2', now).outcome, 'refused');
  });

  it('sends by SMS only when a phone alone is given', () => {
    assert.equal(channelFor({ phone: '+44 20 7946 0958' }), 'sms');
    assert.equal(channelFor({ email: 'a@b.example', phone: '+44 20 7946 0958' }), 'email');
    assert.equal(channelFor({ email: 'a@b.example' }), 'email');
  });

  it('makes 256-bit base64url tokens, each different, kept only as their SHA-256 hex', () => {
    const a = newAcceptanceToken();
    const b = newAcceptanceToken();
    assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(a.token, 'base64url').length, 32);
    assert.notEqual(a.token, b.token);
    assert.equal(a.tokenHash, hashToken(a.token));
    assert.match(a.tokenHash, /^[0-9a-f]{64}$/);
    assert.notEqual(a.tokenHash, b.tokenHash);
  });
});
