// L8 behind a proxy (issue 4): the per-address limit counts each client, not the ingress every
// request comes through; X-Forwarded-For counts only from the proxies TRUST_PROXY trusts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { ADDRESS_POLICY } from '../src/sessions/throttle.js';
import { startIdentity, type IdentityHarness } from './support/identity.js';

const attempt = (h: IdentityHarness, username: string, password: string, forwardedFor?: string) =>
  h.call('POST', '/sessions', { username, password }, forwardedFor ? { 'x-forwarded-for': forwardedFor } : {});

/**
 * Wrong passwords until the address lockout, each for a username of its own so that only the
 * address counts. The backoff's waits are skipped (as if that time had passed), not the lockout.
 */
async function passwordStorm(h: IdentityHarness, forwardedFor: (i: number) => string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < ADDRESS_POLICY.lockoutAfter; i++) {
    statuses.push((await attempt(h, `storm-${randomUUID().slice(0, 8)}`, `guess ${i}`, forwardedFor(i))).status);
    await h.identity.ctx.prisma.loginThrottle.updateMany({
      where: { key: { startsWith: 'ip:' }, failures: { lt: ADDRESS_POLICY.lockoutAfter } },
      data: { blockedUntil: null },
    });
  }
  return statuses;
}

const lockedOut = (reply: { status: number; body: { retryAfter?: number } }, who: string) => {
  assert.equal(reply.status, 429, `${who} is locked out`);
  assert.ok(reply.body.retryAfter! > ADDRESS_POLICY.lockoutSeconds - 60, `${who} for the lockout time (${reply.body.retryAfter} s)`);
};

describe('identity: the per-address limit behind a trusted proxy (TRUST_PROXY=loopback, Postgres)', () => {
  let h: IdentityHarness;
  beforeAll(async () => {
    h = await startIdentity({ env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('locks out the client the proxy names, not every client behind the proxy', async () => {
    const tenantId = randomUUID();
    const personId = await h.person({ tenantId });
    const username = `sam-${personId.slice(0, 6)}`;
    await h.loginWithPassword(tenantId, personId, username, 'the right password', h.tokens.bearer({ tenantId, roles: ['admin'] }));

    const storm = await passwordStorm(h, () => '203.0.113.7');
    assert.deepEqual(storm, Array(ADDRESS_POLICY.lockoutAfter).fill(401));
    lockedOut(await attempt(h, username, 'the right password', '203.0.113.7'), '203.0.113.7');

    // Another client through the same proxy is judged on its own failures.
    assert.equal((await attempt(h, username, 'a wrong password', '198.51.100.23')).status, 401);
    assert.equal((await attempt(h, username, 'the right password', '198.51.100.23')).status, 201);
  });
});

describe('identity: the per-address limit with no trusted proxy (TRUST_PROXY unset, Postgres)', () => {
  let h: IdentityHarness;
  beforeAll(async () => {
    h = await startIdentity();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('ignores X-Forwarded-For: made-up addresses do not dodge the limit of the real one', async () => {
    const storm = await passwordStorm(h, (i) => `198.51.100.${i}, 192.0.2.${i}`);
    assert.deepEqual(storm, Array(ADDRESS_POLICY.lockoutAfter).fill(401));
    lockedOut(await attempt(h, `another-${randomUUID().slice(0, 8)}`, 'one more guess', '203.0.113.99'), 'the real address');
  });
});
