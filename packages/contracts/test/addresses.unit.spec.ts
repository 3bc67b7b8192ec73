import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { isEmailAddress, isPhoneNumber, phoneNumber, phoneNumberE164 } from '../src/index.js';

// Issue 16 item 8, rule 8: one rule per kind of address, the same at every entry point, so that
// what the directory or identity accepts, notifications can deliver to.
describe('shared address rules', () => {
  it('phones: international form, valid for the country; the E.164 form is what gets texted', () => {
    assert.equal(phoneNumberE164('+44 (20) 7946-0958'), '+442079460958');
    assert.equal(phoneNumberE164(' +1 415 555 0123 '), '+14155550123');
    for (const bad of ['+15557654321', '+1 555 0100', '020 7946 0958', '12', 'x', '+44 20 7946 0958 0958 0958 0958 0958']) {
      assert.equal(isPhoneNumber(bad), false, bad);
    }
    const refused = phoneNumber.safeParse('+15557654321');
    assert.equal(refused.success, false);
    assert.match(refused.error!.issues[0]!.message, /international form, such as \+44 20 7946 0958/);
  });

  it('e-mail addresses: the same rule identity uses for usernames made from them', () => {
    assert.equal(isEmailAddress("o'brien@example.com"), true);
    assert.equal(isEmailAddress('not-an-address'), false);
    assert.equal(isEmailAddress(`${'l'.repeat(310)}@example.com`), false);
  });
});
