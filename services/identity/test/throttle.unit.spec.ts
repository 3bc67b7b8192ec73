// L8: the backoff schedule (pure).
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ADDRESS_POLICY, backoffSeconds, USERNAME_POLICY } from '../src/sessions/throttle.js';

describe('login backoff (L8)', () => {
  it('free failures wait nothing, then each failure doubles the wait, then the lockout', () => {
    const waits = Array.from({ length: 12 }, (_, i) => backoffSeconds(i + 1, USERNAME_POLICY));
    assert.deepEqual(waits, [0, 0, 0, 0, 1, 2, 4, 8, 16, 900, 900, 900]);
  });
  it('an address gets a larger allowance than a username', () => {
    assert.equal(backoffSeconds(50, ADDRESS_POLICY), 0);
    assert.equal(backoffSeconds(51, ADDRESS_POLICY), 1);
    assert.equal(backoffSeconds(200, ADDRESS_POLICY), 900);
  });
});
