// L8: password guessing is throttled per username and address (and per address) with growing
// waits and a lockout; the answers are the same whether or not the username exists; nobody can
// lock someone else out (issue 15).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { DISTRIBUTED_ATTACK_FAILURES, DISTRIBUTED_POLICY, USERNAME_POLICY } from '../src/sessions/throttle.js';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity: lockout and rate limits (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();

  beforeAll(async () => {
    // TRUST_PROXY=loopback: each test request says which client address it comes from.
    h = await startIdentity({ env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const attempt = (username: string, password: string, from = '198.51.100.1') => h.call('POST', '/sessions', { username, password }, { 'x-forwarded-for': from });
  /** The throttle row of a username tried from an address. */
  const keyOf = (username: string, from = '198.51.100.1') => `ua:${username}|${from}`;
  const shape = (r: { status: number; body: { type?: string; title?: string; detail?: string } }) => ({ status: r.status, type: r.body.type, title: r.body.title, detail: r.body.detail });

  it('an existing and an unknown username get the same answers through the backoff; the right password waits too', async () => {
    const personId = await h.person({ tenantId });
    const known = `known-${personId.slice(0, 6)}`;
    await h.loginWithPassword(tenantId, personId, known, 'the right password', h.tokens.bearer({ tenantId, roles: ['admin'] }));
    const unknown = `unknown-${personId.slice(0, 6)}`;

    const trace = async (username: string) => {
      const answers = [];
      for (let i = 0; i <= USERNAME_POLICY.freeFailures; i++) answers.push(shape(await attempt(username, `wrong guess ${i}`)));
      answers.push(shape(await attempt(username, 'the right password')));
      return answers;
    };
    const a = await trace(known);
    const b = await trace(unknown);
    assert.deepEqual(a.map((x) => x.status), [...Array(USERNAME_POLICY.freeFailures + 1).fill(401), 429]);
    assert.deepEqual(a.map((x) => ({ ...x, detail: x.status === 429 ? 'wait' : x.detail })), b.map((x) => ({ ...x, detail: x.status === 429 ? 'wait' : x.detail })), 'identical answers');

    const blocked = await attempt(known, 'the right password');
    assert.equal(blocked.status, 429);
    assert.ok(blocked.body.retryAfter >= 1);

    // After the wait, the right password gets in and the count starts again.
    await h.identity.ctx.prisma.loginThrottle.updateMany({ where: { key: keyOf(known) }, data: { blockedUntil: new Date(Date.now() - 1) } });
    assert.equal((await attempt(known, 'the right password')).status, 201);
    assert.equal(await h.identity.ctx.prisma.loginThrottle.count({ where: { key: keyOf(known) } }), 0);
  });

  it('failures past the lockout count lock the username, from that address, for the lockout time', async () => {
    const username = `locked-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < USERNAME_POLICY.lockoutAfter; i++) {
      await attempt(username, `guess ${i}`);
      await h.identity.ctx.prisma.loginThrottle.updateMany({ where: { key: keyOf(username), failures: { lt: USERNAME_POLICY.lockoutAfter } }, data: { blockedUntil: null } });
    }
    const row = await h.identity.ctx.prisma.loginThrottle.findUnique({ where: { key: keyOf(username) } });
    assert.equal(row?.failures, USERNAME_POLICY.lockoutAfter);
    const locked = await attempt(username, 'anything at all');
    assert.equal(locked.status, 429);
    assert.ok(locked.body.retryAfter > USERNAME_POLICY.lockoutSeconds - 60, `locked for the lockout time (${locked.body.retryAfter} s)`);
  });

  it('nobody can lock someone else out: the right password from an address that has not been failing still works (issue 15)', async () => {
    const personId = await h.person({ tenantId });
    const victim = `victim-${personId.slice(0, 6)}`;
    await h.loginWithPassword(tenantId, personId, victim, 'the victim knows it', h.tokens.bearer({ tenantId, roles: ['admin'] }));
    // An attacker locks the victim's username out from their own address.
    for (let i = 0; i < USERNAME_POLICY.lockoutAfter; i++) {
      await attempt(victim, `attack ${i}`, '203.0.113.66');
      await h.identity.ctx.prisma.loginThrottle.updateMany({ where: { key: keyOf(victim, '203.0.113.66'), failures: { lt: USERNAME_POLICY.lockoutAfter } }, data: { blockedUntil: null } });
    }
    assert.equal((await attempt(victim, 'the victim knows it', '203.0.113.66')).status, 429, 'the attacking address is locked out, even with the right password');
    assert.equal((await attempt(victim, 'the victim knows it', '198.51.100.23')).status, 201, 'the victim, from their own address, gets in');
  });

  it('guessing one username from many addresses locks each address after its first failures (distributed attack)', async () => {
    const username = `spread-${randomUUID().slice(0, 6)}`;
    // The username's failures from everywhere reach the threshold (as if many addresses had tried).
    await h.identity.ctx.prisma.loginThrottle.create({ data: { key: `u:${username}`, failures: DISTRIBUTED_ATTACK_FAILURES, lastFailureAt: new Date() } });
    const from = '192.0.2.77';
    const answers: number[] = [];
    for (let i = 0; i < DISTRIBUTED_POLICY.lockoutAfter; i++) {
      answers.push((await attempt(username, `guess ${i}`, from)).status);
      await h.identity.ctx.prisma.loginThrottle.updateMany({ where: { key: keyOf(username, from), failures: { lt: DISTRIBUTED_POLICY.lockoutAfter } }, data: { blockedUntil: null } });
    }
    assert.deepEqual(answers, Array(DISTRIBUTED_POLICY.lockoutAfter).fill(401));
    const locked = await attempt(username, 'one more', from);
    assert.equal(locked.status, 429, `locked after ${DISTRIBUTED_POLICY.lockoutAfter} failures, not ${USERNAME_POLICY.lockoutAfter}`);
    assert.ok(locked.body.retryAfter > DISTRIBUTED_POLICY.lockoutSeconds - 60);
  });
});
