import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DomainError } from '@roster/platform/errors';
import { statusOf } from '@roster/platform/http/problem';
import {
  decideRequest, decideSubmission, decideTargetVisit, goneVisitReason, requireWindowsAhead,
  type RequestActor, type RequestCommand, type RequestState,
} from '../src/requests/request.js';

const now = new Date('2030-01-07T09:00:00Z');
const later = new Date('2030-01-08T09:00:00Z');
const earlier = new Date('2030-01-06T09:00:00Z');
const client: RequestActor = { personId: 'client-1', kind: 'client', submitsOwn: true, manages: false };
const otherClient: RequestActor = { personId: 'client-2', kind: 'client', submitsOwn: true, manages: false };
const manager: RequestActor = { personId: 'manager-1', kind: 'staff', submitsOwn: true, manages: true };
const sitter: RequestActor = { personId: 'sitter-1', kind: 'staff', submitsOwn: false, manages: false };
const pending: RequestState = { status: 'pending', clientId: 'client-1' };

const refusedWith = (status: number, slug?: string) => (e: unknown) => e instanceof DomainError && statusOf(e) === status && (!slug || e.slug === slug);
const window = (startsAt: Date) => ({ startsAt, endsAt: new Date(startsAt.getTime() + 3_600_000) });

describe('a client request decides (S3): given a request, when a command, then a decision or a refusal', () => {
  it('a client asks for themselves; a manager names the client; nobody else asks', () => {
    assert.equal(decideSubmission({ kind: 'visits', visits: [window(later)] }, client, now), 'client-1');
    assert.equal(decideSubmission({ kind: 'visits', clientId: 'client-1', visits: [window(later)] }, client, now), 'client-1');
    assert.equal(decideSubmission({ kind: 'cancel', clientId: 'client-9', visitId: 'v' }, manager, now), 'client-9');
    assert.throws(() => decideSubmission({ kind: 'visits', visits: [window(later)] }, manager, now), refusedWith(400, 'client-required'));
    assert.throws(() => decideSubmission({ kind: 'visits', clientId: 'client-2', visits: [window(later)] }, client, now), refusedWith(403));
    assert.throws(() => decideSubmission({ kind: 'visits', visits: [window(later)] }, sitter, now), refusedWith(403));
    assert.throws(() => decideSubmission({ kind: 'visits', visits: [window(later)] }, { ...client, submitsOwn: false }, now), refusedWith(403));
  });

  it('every window asked for lies ahead (422 naming the window); at approval one that has passed is a 409', () => {
    assert.throws(() => decideSubmission({ kind: 'visits', visits: [window(later), window(earlier)] }, client, now), (e: unknown) =>
      e instanceof DomainError && e.kind === 'unprocessable' && JSON.stringify(e.extensions).includes('body.visits[1].startsAt'));
    assert.throws(() => decideSubmission({ kind: 'visits', visits: [window(now)] }, client, now), refusedWith(422, 'window-in-the-past'));
    requireWindowsAhead([{ startsAt: later.toISOString() }], now);
    assert.throws(() => requireWindowsAhead([{ startsAt: earlier.toISOString() }], now), refusedWith(409));
  });

  it('a change or cancellation is about an upcoming visit of the client; another client\'s reads as none', () => {
    decideTargetVisit('v', { clientId: 'client-1', status: 'scheduled', startsAt: later }, 'client-1', now);
    assert.throws(() => decideTargetVisit('v', { clientId: 'client-2', status: 'scheduled', startsAt: later }, 'client-1', now), refusedWith(404, 'visit-unknown'));
    assert.throws(() => decideTargetVisit('v', null, 'client-1', now), refusedWith(404, 'visit-unknown'));
    assert.throws(() => decideTargetVisit('v', { clientId: 'client-1', status: 'completed', startsAt: later }, 'client-1', now), refusedWith(409));
    assert.throws(() => decideTargetVisit('v', { clientId: 'client-1', status: 'scheduled', startsAt: earlier }, 'client-1', now), refusedWith(409));
    assert.equal(goneVisitReason(null), 'the visit no longer exists');
    assert.equal(goneVisitReason({ clientId: 'client-1', status: 'completed', startsAt: earlier }), 'the visit was completed');
    assert.equal(goneVisitReason({ clientId: 'client-1', status: 'scheduled', startsAt: later }), null);
  });

  it('managers approve and decline; the client or a manager withdraws; each request is answered once', () => {
    const commands: RequestCommand[] = [{ type: 'approve' }, { type: 'decline', reason: 'full' }, { type: 'withdraw' }];
    for (const command of commands) assert.deepEqual(decideRequest(pending, command, manager), command);
    assert.deepEqual(decideRequest(pending, { type: 'withdraw' }, client), { type: 'withdraw' });
    assert.throws(() => decideRequest(pending, { type: 'approve' }, client), refusedWith(403));
    assert.throws(() => decideRequest(pending, { type: 'withdraw' }, otherClient), refusedWith(403));
    for (const status of ['approved', 'declined', 'withdrawn'] as const) {
      for (const command of commands) {
        assert.throws(() => decideRequest({ status, clientId: 'client-1' }, command, manager), (e: unknown) =>
          e instanceof DomainError && e.kind === 'conflict' && e.extensions.state === status);
      }
    }
  });
});
