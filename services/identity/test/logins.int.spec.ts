// L1, L2, L5, L6, P3: who may grant logins, usernames unique across tenants, bulk grants,
// new passwords, switching logins off and on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity: granting and managing logins (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  const admin = () => h.tokens.bearer({ tenantId, roles: ['admin'] });

  beforeAll(async () => {
    h = await startIdentity();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('L2: usernames are unique across tenants, case-insensitively and after NFKC; the conflict offers free names', async () => {
    const a = await h.person({ tenantId, firstName: 'Jane', lastName: 'Doe' });
    const res = await h.call('POST', '/logins', { personId: a, username: 'Ｊａｎｅ.Doe' }, admin());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.username, 'jane.doe', 'full-width letters fold to ASCII, upper to lower');

    const otherTenant = randomUUID();
    const b = await h.person({ tenantId: otherTenant, firstName: 'Jane', lastName: 'Doe' });
    const taken = await h.call('POST', '/logins', { personId: b, username: 'JANE.DOE' }, h.tokens.bearer({ tenantId: otherTenant, roles: ['owner'] }));
    assert.equal(taken.status, 409);
    assert.match(taken.body.type, /username-taken/);
    assert.ok(taken.body.suggestions.length >= 3, JSON.stringify(taken.body));
    assert.ok(!taken.body.suggestions.includes('jane.doe'));

    const check = await h.call('GET', '/usernames/availability?username=Jane.DOE&firstName=Jane&lastName=Doe', undefined, admin());
    assert.equal(check.status, 200);
    assert.equal(check.body.available, false);
    assert.ok(check.body.suggestions.length >= 3);
    assert.ok(check.body.suggestions.includes('janedoe'));
    for (const s of check.body.suggestions) {
      const free = await h.call('GET', `/usernames/availability?username=${encodeURIComponent(s)}`, undefined, admin());
      assert.equal(free.body.available, true, `${s} is really free`);
    }
    const free = await h.call('GET', '/usernames/availability?username=somebody.new', undefined, admin());
    assert.equal(free.body.available, true);
    assert.equal((await h.call('GET', '/usernames/availability?username=x', undefined, h.tokens.bearer({ tenantId, roles: ['staff'] }))).status, 403);
  });

  it('L1: one bulk request grants many logins, with a result per item', async () => {
    const p1 = await h.person({ tenantId });
    const p2 = await h.person({ tenantId });
    const noEmail = await h.person({ tenantId, email: null });
    const res = await h.call('POST', '/logins:bulk', {
      items: [
        { personId: p1, username: `bulk-${p1.slice(0, 6)}` },
        { personId: p2, username: `bulk-${p2.slice(0, 6)}`, sendTo: 'manager@example.com' },
        { personId: noEmail, username: `bulk-${noEmail.slice(0, 6)}` },
        { personId: randomUUID(), username: 'bulk-nobody' },
        { personId: 'junk' },
      ],
    }, admin());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.results.map((r: { status: number }) => r.status), [201, 201, 422, 404, 400]);
    assert.equal(res.body.granted, 2);
    assert.deepEqual(res.body.results[1].login.delivery, { channel: 'email', to: 'manager@example.com' });
    const event = await h.next('login.granted', (e) => e.data.personId === p2);
    assert.equal(event.data.delivery?.to, 'manager@example.com', 'sendTo wins over the address on file');
  });

  it('P3: a supervisor grants logins only to people in their own areas; a salesperson never; an impersonation never', async () => {
    const root = await h.account(tenantId, 'root', null);
    const north = await h.account(tenantId, 'area', root, 'North');
    const northSub = await h.account(tenantId, 'client_account', north, 'North client');
    const south = await h.account(tenantId, 'area', root, 'South');
    const supervisorId = await h.person({ tenantId, roleKey: 'supervisor', accountId: north });
    const supervisor = h.tokens.bearer({ tenantId, personId: supervisorId, roles: ['supervisor'] });
    const inArea = await h.person({ tenantId, kind: 'client', accountId: northSub });
    const outside = await h.person({ tenantId, kind: 'client', accountId: south });
    assert.equal((await h.call('POST', '/logins', { personId: inArea, username: `north-${inArea.slice(0, 6)}` }, supervisor)).status, 201);
    const refused = await h.call('POST', '/logins', { personId: outside, username: `south-${outside.slice(0, 6)}` }, supervisor);
    assert.equal(refused.status, 403);
    assert.match(refused.body.detail, /own areas/);
    const manager = await h.person({ tenantId, roleKey: 'manager', accountId: northSub });
    assert.equal((await h.call('POST', '/logins', { personId: manager, username: `mgr-${manager.slice(0, 6)}` }, supervisor)).status, 403, 'ranked above the supervisor');

    const sales = h.tokens.bearer({ tenantId, roles: ['salesperson'] });
    assert.equal((await h.call('POST', '/logins', { personId: outside, username: `s-${outside.slice(0, 6)}` }, sales)).status, 403);
    const acting = h.tokens.bearer({ tenantId, roles: ['admin'], impersonatorId: randomUUID() });
    assert.equal((await h.call('POST', '/logins', { personId: outside, username: `i-${outside.slice(0, 6)}` }, acting)).status, 403);
    assert.equal(await h.identity.ctx.prisma.login.count({ where: { personId: outside } }), 0);
  });

  it('L6: switching a login off revokes its sessions and refuses logins; on again restores it; the person is untouched', async () => {
    const personId = await h.person({ tenantId });
    const username = `sw-${personId.slice(0, 6)}`;
    const session = await h.loginWithPassword(tenantId, personId, username, 'switch me off now', admin());
    const since = h.published.length;
    const off = await h.call('PATCH', `/logins/${personId}`, { enabled: false }, admin());
    assert.equal(off.status, 200);
    assert.deepEqual(off.body, { personId, username, enabled: false });
    await h.next('login.disabled', (e) => e.data.personId === personId, since);
    const revoked = await h.next('sessions.revoked', (e) => e.data.personId === personId, since);
    assert.equal(revoked.data.reason, 'login_disabled');
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(session.accessToken))).status, 401, 'at once');
    // Issue 15: the right password of a switched-off login answers as a wrong one does.
    const failures = async () => (await h.identity.ctx.prisma.loginThrottle.findFirst({ where: { key: { startsWith: `ua:${username}|` } } }))?.failures ?? 0;
    assert.equal((await h.call('POST', '/sessions', { username, password: 'a wrong guess' }, { 'x-forwarded-for': '203.0.113.7' })).status, 401);
    const afterGuess = await failures();
    const right = await h.call('POST', '/sessions', { username, password: 'switch me off now' }, { 'x-forwarded-for': '203.0.113.7' });
    // Nor the throttle: the right password counts as one more failure and resets nothing.
    assert.equal(await failures(), afterGuess + 1, 'the right password of a switched-off login is one more failure');
    const wrong = await h.call('POST', '/sessions', { username, password: 'not the password' }, { 'x-forwarded-for': '203.0.113.8' });
    const unknown = await h.call('POST', '/sessions', { username: `nobody-${personId.slice(0, 6)}`, password: 'switch me off now' });
    assert.equal(right.status, 401);
    assert.deepEqual(right.body, wrong.body, 'nothing tells the right password from a wrong one');
    assert.deepEqual({ ...right.body, instance: null }, { ...unknown.body, instance: null }, 'nor a switched-off login from an unknown username');
    assert.equal((await h.identity.ctx.prisma.personProjection.findUnique({ where: { id: personId } }))!.status, 'active');

    const standard = h.tokens.bearer({ tenantId, roles: ['standard'] });
    assert.equal((await h.call('PATCH', `/logins/${personId}`, { enabled: true }, standard)).status, 403, 'logins.manage needed');
    const on = await h.call('PATCH', `/logins/${personId}`, { enabled: true }, admin());
    assert.equal(on.body.enabled, true);
    await h.next('login.enabled', (e) => e.data.personId === personId, since);
    assert.equal((await h.call('POST', '/sessions', { username, password: 'switch me off now' })).status, 201);
  });

  it('L5: a new temporary password is e-mailed (password.reset new_password); the old password stops working', async () => {
    const personId = await h.person({ tenantId, kind: 'client' });
    const username = `np-${personId.slice(0, 6)}`;
    await h.loginWithPassword(tenantId, personId, username, 'old password here', admin());
    const since = h.published.length;
    const res = await h.call('POST', `/logins/${personId}/new-password`, { sendTo: 'other@example.com' }, admin());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const reset = await h.next('password.reset', (e) => e.data.personId === personId && e.data.reason === 'new_password', since);
    assert.deepEqual(reset.data.delivery, { channel: 'email', template: 'new_password', to: 'other@example.com' });
    assert.equal(reset.data.username, username, 'the e-mail names the login without asking another projection (issue 16 item 2)');
    assert.equal((await h.call('POST', '/sessions', { username, password: 'old password here' })).status, 401);
    const login = await h.call('POST', '/sessions', { username, password: h.unseal(reset.data.secret!) });
    assert.equal(login.status, 201);
    assert.equal(login.body.passwordChangeRequired, true);
  });
});
