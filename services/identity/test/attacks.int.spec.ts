// Bad input and attacks at the HTTP level (rule 7, rule 8, L3): forged, foreign, expired and
// revoked tokens, another tenant's people, replays, over-long passwords, malformed bodies.
// Each is refused with the right status and changes nothing.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { generateSigningJwk, parseSigningKeys } from '@roster/platform/auth/keys';
import { TokenSigner } from '@roster/platform/auth/signer';
import { startIdentity, type IdentityHarness } from './support/identity.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('identity refuses forged, foreign, expired and revoked tokens and bad input (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  const otherTenant = randomUUID();
  let personId: string;
  let session: { accessToken: string; refreshToken: string };

  beforeAll(async () => {
    h = await startIdentity();
    personId = await h.person({ tenantId, roleKey: 'manager' });
    session = await h.loginWithPassword(tenantId, personId, `target-${personId.slice(0, 6)}`, 'a decent passphrase', h.tokens.bearer({ tenantId, roles: ['admin'] }));
  });
  afterAll(async () => {
    await h?.stop();
  });

  const me = (token: string) => h.call('GET', '/me', undefined, h.bearer(token));
  const claimsOf = () => jwt.decode(session.accessToken, { complete: true })!;

  it('the genuine token works (the baseline the attacks are compared with)', async () => {
    assert.equal((await me(session.accessToken)).status, 200);
  });

  it('alg none is refused', async () => {
    const { header, payload } = claimsOf();
    const token = `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
    const res = await me(token);
    assert.equal(res.status, 401);
    assert.match(res.type, /application\/problem\+json/);
  });

  it('HS256 "signed" with the public key is refused', async () => {
    const { header, payload } = claimsOf();
    const jwk = (await h.call('GET', '/.well-known/jwks.json')).body.keys[0];
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const unsigned = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
    const token = `${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`;
    assert.equal((await me(token)).status, 401);
  });

  it('a token signed by an unknown key (kid) is refused', async () => {
    const stranger = new TokenSigner(parseSigningKeys(JSON.stringify({ keys: [generateSigningJwk('stranger')] })), 'roster');
    const token = stranger.sign({ personId, tenantId, kind: 'staff', roles: ['owner'], permissions: [], sessionId: randomUUID(), ttlSeconds: 60 }).token;
    const res = await me(token);
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /unknown/);
  });

  it('an expired token and a token from another issuer are refused', async () => {
    const keys = parseSigningKeys(h.tokens.env.IDENTITY_JWT_SIGNING_KEYS);
    const expired = new TokenSigner(keys, 'roster').sign({ personId, tenantId, kind: 'staff', roles: ['manager'], permissions: [], sessionId: randomUUID(), ttlSeconds: -60 }).token;
    const res = await me(expired);
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /expired/);
    const foreign = new TokenSigner(keys, 'https://evil.example').sign({ personId, tenantId, kind: 'staff', roles: ['manager'], permissions: [], sessionId: randomUUID(), ttlSeconds: 60 }).token;
    assert.equal((await me(foreign)).status, 401);
  });

  it('a logout refuses that session\'s tokens and no other session\'s (issue 16); a newer token of the session is not issued', async () => {
    const other = await h.call('POST', '/sessions', { username: `target-${personId.slice(0, 6)}`, password: 'a decent passphrase' });
    assert.equal((await h.call('DELETE', '/sessions/current', undefined, h.bearer(other.body.accessToken))).status, 204);
    assert.equal((await me(other.body.accessToken)).status, 401);
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: other.body.refreshToken })).status, 401, 'the logged-out session does not refresh');
    assert.equal((await me(session.accessToken)).status, 200, 'the person\'s other session keeps working');
    const refreshed = await h.call('POST', '/sessions/refresh', { refreshToken: session.refreshToken });
    assert.equal(refreshed.status, 200, 'the other session refreshes');
    session = refreshed.body;
    assert.equal((await me(session.accessToken)).status, 200);
  });

  it('people of another tenant do not exist for you (404), and nothing is granted', async () => {
    const stranger = await h.person({ tenantId: otherTenant });
    const admin = h.tokens.bearer({ tenantId, roles: ['admin'] });
    const before = h.published.length;
    assert.equal((await h.call('POST', '/logins', { personId: stranger, username: `x-${stranger.slice(0, 8)}` }, admin)).status, 404);
    assert.equal((await h.call('PATCH', `/logins/${personId}`, { enabled: false }, h.tokens.bearer({ tenantId: otherTenant, roles: ['admin'] }))).status, 404);
    assert.equal((await h.call('POST', `/logins/${personId}/new-password`, {}, h.tokens.bearer({ tenantId: otherTenant, roles: ['admin'] }))).status, 404);
    assert.equal((await h.call('POST', '/impersonations', { personId, reason: 'checking a support ticket' }, h.tokens.bearer({ tenantId: otherTenant, roles: ['admin'] }))).status, 404);
    assert.equal((await h.call('POST', '/logins', { personId, username: 'y' + personId.slice(0, 8) }, h.operator(otherTenant))).status, 404);
    assert.equal(await h.identity.ctx.prisma.login.count({ where: { personId: stranger } }), 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.published.length, before, 'nothing emitted');
    assert.equal((await me(session.accessToken)).status, 200, 'the login was not switched off');
  });

  it('a peer cannot take over an account with a new password sent elsewhere (issue 15, L5): only someone ranked above may ask for one', async () => {
    const admin = h.tokens.bearer({ tenantId, roles: ['admin'] });
    const victim = await h.person({ tenantId, roleKey: 'standard', email: `victim-${randomUUID().slice(0, 6)}@example.com` });
    await h.grant(tenantId, victim, `victim-${victim.slice(0, 6)}`, admin);
    const peer = await h.person({ tenantId, roleKey: 'standard' });
    const before = h.published.length;
    const asPeer = h.tokens.bearer({ tenantId, personId: peer, roles: ['standard'] });
    const takeover = await h.call('POST', `/logins/${victim}/new-password`, { sendTo: 'attacker@evil.example' }, asPeer);
    assert.equal(takeover.status, 403, JSON.stringify(takeover.body));
    assert.match(takeover.body.detail, /ranks below yours/);
    assert.equal((await h.call('POST', `/logins/${victim}/new-password`, {}, asPeer)).status, 403, 'not even to the address on file');
    const ownLogin = h.tokens.bearer({ tenantId, personId: victim, roles: ['standard'] });
    assert.equal((await h.call('POST', `/logins/${victim}/new-password`, { sendTo: 'elsewhere@evil.example' }, ownLogin)).status, 403, 'not for oneself either (PUT /password is for that)');
    const newcomer = await h.person({ tenantId, roleKey: 'standard', email: `new-${randomUUID().slice(0, 6)}@example.com` });
    assert.equal((await h.call('POST', '/logins', { personId: newcomer, username: `new-${newcomer.slice(0, 6)}`, sendTo: 'attacker@evil.example' }, asPeer)).status, 403, 'nor a first login for a peer');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.published.length, before, 'nothing emitted: no password was made');
    // Someone ranked above still can (L5).
    const byAdmin = await h.call('POST', `/logins/${victim}/new-password`, {}, admin);
    assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
  });

  it('over-long passwords are refused before hashing (400), whatever the endpoint', async () => {
    const long = 'x'.repeat(257);
    const login = await h.call('POST', '/sessions', { username: 'anyone', password: 'y'.repeat(100_000) });
    assert.equal(login.status, 400);
    assert.deepEqual(login.body.errors.map((e: { path: string }) => e.path), ['body.password']);
    assert.equal((await h.call('PUT', '/password', { currentPassword: 'a decent passphrase', newPassword: long }, h.bearer(session.accessToken))).status, 400);
    const p = await h.person({ tenantId });
    const grant = await h.call('POST', '/logins', { personId: p, username: `long-${p.slice(0, 6)}`, password: long }, h.tokens.bearer({ tenantId, roles: ['admin'] }));
    assert.equal(grant.status, 400);
    assert.equal(await h.identity.ctx.prisma.login.count({ where: { personId: p } }), 0);
  });

  it('malformed bodies are 400 problems and change nothing', async () => {
    const admin = h.tokens.bearer({ tenantId, roles: ['admin'] });
    const logins = await h.identity.ctx.prisma.login.count();
    const before = h.published.length;
    const badJson = await fetch(`${h.identity.url}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username": "a",' });
    assert.equal(badJson.status, 400);
    assert.match(badJson.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await h.call('POST', '/sessions', { username: 'a', password: 'b', extra: true })).status, 400);
    assert.equal((await h.call('POST', '/sessions', { username: 42, password: ['b'] })).status, 400);
    assert.equal((await h.call('POST', '/logins', { personId: 'not-a-uuid', username: 'ok-name' }, admin)).status, 400);
    assert.equal((await h.call('POST', '/logins', { personId: randomUUID(), username: 'no spaces allowed' }, admin)).status, 400);
    assert.equal((await h.call('POST', '/logins:bulk', { items: [] }, admin)).status, 400);
    assert.equal((await h.call('PATCH', `/logins/${personId}`, { enabled: 'no' }, admin)).status, 400);
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: 'short' })).status, 400);
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: 'A'.repeat(43) })).status, 401, 'an unknown refresh token');
    assert.equal((await h.call('POST', '/impersonations', { personId }, admin)).status, 400);
    assert.equal(await h.identity.ctx.prisma.login.count(), logins);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.published.length, before);
  });

  it('no token, or a non-bearer header, is 401 with WWW-Authenticate on a bad token', async () => {
    assert.equal((await h.call('GET', '/me')).status, 401);
    assert.equal((await h.call('GET', '/me', undefined, { authorization: 'Basic dXNlcjpwYXNz' })).status, 401);
    const res = await me('not.a.jwt');
    assert.equal(res.status, 401);
  });
});
