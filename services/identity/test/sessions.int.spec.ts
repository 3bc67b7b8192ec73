// Rule 7, L1, L3, L4: logins granted with a one-use temporary password, sessions with rotated
// refresh tokens and reuse detection, logout, password change, /me, discovery documents.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity: logins, temporary passwords, sessions and tokens (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();

  beforeAll(async () => {
    h = await startIdentity({ env: { TEMPORARY_PASSWORD_TTL_HOURS: '48' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('L1, L4: the operator grants an owner a login; login.granted carries the credentials e-mail with the password sealed', async () => {
    const ownerId = await h.person({ tenantId, roleKey: 'owner', firstName: 'Olive', lastName: 'Owner', email: 'olive@example.com' });
    const since = h.published.length;
    const res = await h.call('POST', '/logins', { personId: ownerId, username: 'Olive.Owner' }, h.operator(tenantId));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.username, 'olive.owner', 'stored normalized');
    assert.equal(res.body.temporary, true);
    assert.equal(res.body.notRecommended, false);
    assert.deepEqual(res.body.delivery, { channel: 'email', to: 'olive@example.com' });
    const hours = (Date.parse(res.body.expiresAt) - Date.now()) / 3_600_000;
    assert.ok(hours > 47.9 && hours <= 48, `TEMPORARY_PASSWORD_TTL_HOURS is honoured (${hours})`);

    const event = await h.next('login.granted', (e) => e.data.personId === ownerId, since);
    assert.deepEqual(event.data.delivery, { channel: 'email', template: 'staff_login_credentials', to: 'olive@example.com' });
    assert.deepEqual(event.data.actor, { kind: 'operator', personId: null, impersonatorId: null });
    const password = h.unseal(event.data.secret!);
    assert.match(password, /^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/);
    assert.ok(!JSON.stringify(event).includes(password), 'the password is in the event only sealed');
  });

  it('L1: the operator key grants only an owner; a client gets the client template and a permanent password is flagged', async () => {
    const clientId = await h.person({ tenantId, kind: 'client', email: 'carl@example.com' });
    const refused = await h.call('POST', '/logins', { personId: clientId, username: 'carl.client' }, h.operator(tenantId));
    assert.equal(refused.status, 403);

    const admin = h.tokens.bearer({ tenantId, roles: ['admin'] });
    const since = h.published.length;
    const res = await h.call('POST', '/logins', { personId: clientId, username: 'carl.client', password: 'a long chosen passphrase 42' }, admin);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.temporary, false);
    assert.equal(res.body.notRecommended, true);
    const event = await h.next('login.granted', (e) => e.data.personId === clientId, since);
    assert.equal(event.data.delivery?.template, 'client_login_credentials');
    assert.equal(event.data.secret, null, 'a password the admin chose is not sent');

    const session = await h.call('POST', '/sessions', { username: 'CARL.client', password: 'a long chosen passphrase 42' });
    assert.equal(session.status, 201);
    assert.equal(session.body.passwordChangeRequired, false);
    const me = await h.call('GET', '/me', undefined, h.bearer(session.body.accessToken));
    assert.deepEqual(me.body.roles, ['client']);
  });

  it('L3: a temporary password works once, yields a token that can only set a password, and never works again', async () => {
    const personId = await h.person({ tenantId, roleKey: 'manager' });
    const temporary = await h.grant(tenantId, personId, `mia-${personId.slice(0, 6)}`, h.tokens.bearer({ tenantId, roles: ['owner'] }));
    const username = `mia-${personId.slice(0, 6)}`;

    const first = await h.call('POST', '/sessions', { username, password: temporary });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.passwordChangeRequired, true);
    assert.equal((jwt.decode(first.body.accessToken) as { pwd?: boolean }).pwd, true);

    const me = await h.call('GET', '/me', undefined, h.bearer(first.body.accessToken));
    assert.equal(me.status, 200);
    assert.equal(me.body.passwordChangeRequired, true);
    assert.equal(me.body.username, username);
    const elsewhere = await h.call('GET', `/usernames/availability?username=x${username}`, undefined, h.bearer(first.body.accessToken));
    assert.equal(elsewhere.status, 403, 'a temporary-password token cannot do anything else');
    assert.match(elsewhere.body.type, /password-change-required/);

    const again = await h.call('POST', '/sessions', { username, password: temporary });
    assert.equal(again.status, 401, 'used once, never again');

    const weak = await h.call('PUT', '/password', { newPassword: 'password123' }, h.bearer(first.body.accessToken));
    assert.equal(weak.status, 400);
    assert.equal(weak.body.reason, 'common');
    const withName = await h.call('PUT', '/password', { newPassword: `my ${username} rocks!` }, h.bearer(first.body.accessToken));
    assert.equal(withName.body.reason, 'contains_username');

    const set = await h.call('PUT', '/password', { newPassword: 'walk the dogs at dawn' }, h.bearer(first.body.accessToken));
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.passwordChangeRequired, false);
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(first.body.accessToken))).status, 401, 'the temporary session ended');
    const me2 = await h.call('GET', '/me', undefined, h.bearer(set.body.accessToken));
    assert.equal(me2.status, 200);
    assert.deepEqual(me2.body.roles, ['manager']);

    assert.equal((await h.call('POST', '/sessions', { username, password: temporary })).status, 401);
    const normal = await h.call('POST', '/sessions', { username, password: 'walk the dogs at dawn' });
    assert.equal(normal.status, 201);
    assert.equal(normal.body.passwordChangeRequired, false);

    const noCurrent = await h.call('PUT', '/password', { newPassword: 'another fine passphrase' }, h.bearer(normal.body.accessToken));
    assert.equal(noCurrent.status, 400, 'outside a temporary session the current password is required');
    const wrongCurrent = await h.call('PUT', '/password', { currentPassword: 'not it at all', newPassword: 'another fine passphrase' }, h.bearer(normal.body.accessToken));
    assert.equal(wrongCurrent.status, 401);
  });

  it('L3: a temporary password expires after TEMPORARY_PASSWORD_TTL_HOURS even if never used', async () => {
    const personId = await h.person({ tenantId });
    const username = `exp-${personId.slice(0, 8)}`;
    const temporary = await h.grant(tenantId, personId, username, h.tokens.bearer({ tenantId, roles: ['admin'] }));
    await h.identity.ctx.prisma.login.update({ where: { personId }, data: { temporaryExpiresAt: new Date(Date.now() - 1000) } });
    const res = await h.call('POST', '/sessions', { username, password: temporary });
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /expired/);
  });

  it('rule 7: refresh tokens rotate; a reused one kills the family and emits sessions.revoked (refresh_token_reused)', async () => {
    const personId = await h.person({ tenantId, roleKey: 'standard' });
    const session = await h.loginWithPassword(tenantId, personId, `rita-${personId.slice(0, 6)}`, 'refresh me please 123', h.tokens.bearer({ tenantId, roles: ['admin'] }));
    const stored = await h.identity.ctx.prisma.refreshToken.findMany();
    assert.ok(stored.every((r) => r.tokenHash !== session.refreshToken && /^[0-9a-f]{64}$/.test(r.tokenHash)), 'stored hashed only');

    const r1 = await h.call('POST', '/sessions/refresh', { refreshToken: session.refreshToken });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.notEqual(r1.body.refreshToken, session.refreshToken, 'rotated');
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(r1.body.accessToken))).status, 200);

    const since = h.published.length;
    const replay = await h.call('POST', '/sessions/refresh', { refreshToken: session.refreshToken });
    assert.equal(replay.status, 401);
    const revoked = await h.next('sessions.revoked', (e) => e.data.personId === personId, since);
    assert.equal(revoked.data.reason, 'refresh_token_reused');
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: r1.body.refreshToken })).status, 401, 'the whole family is dead');
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(r1.body.accessToken))).status, 401, 'and its access tokens');
  });

  it('rule 7: logout ends the session: its access token and refresh token are refused', async () => {
    const personId = await h.person({ tenantId });
    const session = await h.loginWithPassword(tenantId, personId, `leo-${personId.slice(0, 6)}`, 'logging out soon 77', h.tokens.bearer({ tenantId, roles: ['admin'] }));
    const since = h.published.length;
    const out = await h.call('DELETE', '/sessions/current', undefined, h.bearer(session.accessToken));
    assert.equal(out.status, 204);
    const event = await h.next('sessions.revoked', (e) => e.data.personId === personId && e.data.reason === 'logout', since);
    assert.equal(event.data.sessionCount, 1);
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(session.accessToken))).status, 401);
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: session.refreshToken })).status, 401);
  });

  it('rule 7: the JWKS of access tokens (ES256, what every service verifies with); discovery is the OpenID Provider\'s', async () => {
    const jwks = await h.call('GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.equal(jwks.body.keys.length, 1);
    assert.equal(jwks.body.keys[0].alg, 'ES256');
    assert.equal(jwks.body.keys[0].d, undefined, 'public halves only');
    const config = await h.call('GET', '/.well-known/openid-configuration');
    // Issue 17: the issuer is identity's public URL (PUBLIC_URL, here the default), no longer the token issuer name.
    assert.equal(config.body.issuer, 'http://localhost:4001');
    assert.ok(config.body.jwks_uri.endsWith('/oauth2/jwks'));
  });
});
