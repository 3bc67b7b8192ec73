// L3, L6, P5, P6: what a correct password opens, given the login and the person (given/when/then).
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { decideLogin, type LoginState } from '../src/sessions/decide.js';

const now = Date.parse('2026-12-01T10:00:00Z');
const login = (over: Partial<LoginState> = {}): LoginState => ({
  enabled: true, passwordTemporary: false, temporaryExpiresAt: null, passwordChangeRequired: false, personStatus: 'active', ...over,
});

describe('decideLogin', () => {
  it('given an active person with a permanent password, when they log in, then a full session opens', () => {
    assert.deepEqual(decideLogin(login(), now), { outcome: 'session', consumeTemporary: false, passwordChangeRequired: false });
  });
  it('given a temporary password not expired, then it is consumed and the session can only set a password', () => {
    assert.deepEqual(decideLogin(login({ passwordTemporary: true, temporaryExpiresAt: now + 1 }), now), { outcome: 'session', consumeTemporary: true, passwordChangeRequired: true });
  });
  it('given a temporary password past its expiry, then it is refused', () => {
    assert.deepEqual(decideLogin(login({ passwordTemporary: true, temporaryExpiresAt: now }), now), { outcome: 'refused', reason: 'temporary_expired' });
  });
  it('given a login switched off, or a person inactive, archived or not yet known, then it is refused as off', () => {
    for (const state of [login({ enabled: false }), login({ personStatus: 'inactive' }), login({ personStatus: 'archived' }), login({ personStatus: null })]) {
      assert.deepEqual(decideLogin(state, now), { outcome: 'refused', reason: 'login_off' });
    }
  });
  it('given a consumed temporary password whose change is still required, then the session is still limited', () => {
    assert.deepEqual(decideLogin(login({ passwordChangeRequired: true }), now), { outcome: 'session', consumeTemporary: false, passwordChangeRequired: true });
  });
});
