// L8: password guessing is throttled per username (and per address) with growing waits and a
// lockout; the answers are the same whether or not the username exists.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { USERNAME_POLICY } from '../src/sessions/throttle.js';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity: lockout and rate limits (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();

  beforeAll(async () => {
    h = await startIdentity();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const attempt = (username: string, password: string) => h.call('POST', '/sessions', { username, password });
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
    await h.identity.ctx.prisma.loginThrottle.updateMany({ where: { key: `u:${known}` }, data: { blockedUntil: new Date(Date.now() - 1) } });
    assert.equal((await attempt(known, 'the right password')).status, 201);
    assert.equal(await h.identity.ctx.prisma.loginThrottle.count({ where: { key: `u:${known}` } }), 0);
  });

  it('failures past the lockout count lock the username for the lockout time', async () => {
    const username = `locked-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < USERNAME_POLICY.lockoutAfter; i++) {
      await attempt(username, `guess ${i}`);
      await h.identity.ctx.prisma.loginThrottle.updateMany({ where: { key: `u:${username}`, failures: { lt: USERNAME_POLICY.lockoutAfter } }, data: { blockedUntil: null } });
    }
    const row = await h.identity.ctx.prisma.loginThrottle.findUnique({ where: { key: `u:${username}` } });
    assert.equal(row?.failures, USERNAME_POLICY.lockoutAfter);
    const locked = await attempt(username, 'anything at all');
    assert.equal(locked.status, 429);
    assert.ok(locked.body.retryAfter > USERNAME_POLICY.lockoutSeconds - 60, `locked for the lockout time (${locked.body.retryAfter} s)`);
  });
});
