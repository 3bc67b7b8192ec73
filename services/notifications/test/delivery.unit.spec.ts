import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { normalizeAddress } from '../src/messages/addresses.js';
import { classifySmtpError } from '../src/messages/providers.js';

// N1: which failures are worth retrying, and which addresses are deliverable at all.
describe('delivery decisions (N1)', () => {
  it('retries SMTP 4xx replies and connection failures; gives up on 5xx replies and on what no retry can fix', () => {
    const smtpReply = (responseCode: number) => Object.assign(new Error(`${responseCode} reply`), { responseCode });
    assert.equal(classifySmtpError(smtpReply(421)).transient, true);
    assert.equal(classifySmtpError(smtpReply(451)).transient, true);
    assert.equal(classifySmtpError(smtpReply(550)).transient, false);
    assert.equal(classifySmtpError(smtpReply(554)).transient, false);
    assert.equal(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' })).transient, true);
    assert.equal(classifySmtpError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })).transient, true);
    assert.equal(classifySmtpError(Object.assign(new Error('bad login'), { code: 'EAUTH' })).transient, false);
    assert.equal(classifySmtpError(Object.assign(new Error('no recipients'), { code: 'EENVELOPE' })).transient, false);
  });

  it('accepts e-mail addresses and international phone numbers (as E.164), refuses the rest', () => {
    assert.equal(normalizeAddress('email', ' ana@example.com '), 'ana@example.com');
    assert.equal(normalizeAddress('email', 'ana@'), null);
    assert.equal(normalizeAddress('email', null), null);
    assert.equal(normalizeAddress('sms', '+44 20 7946 0958'), '+442079460958');
    assert.equal(normalizeAddress('sms', '+1 (415) 555-2671'), '+14155552671');
    assert.equal(normalizeAddress('sms', '020 7946 0958'), null, 'no country: ambiguous');
    assert.equal(normalizeAddress('sms', '+12'), null);
    assert.equal(normalizeAddress('sms', 'call me'), null);
  });
});
