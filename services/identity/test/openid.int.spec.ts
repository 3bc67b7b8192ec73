import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { freePort } from '../../../packages/platform/test/support/ports.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { lifecycle, startIdentity, type IdentityHarness } from './support/identity.js';
import { UserAgent } from './support/user-agent.js';
import { signInThroughForm, startApplication } from './support/relying-party.js';

const PASSWORD = 'Correct-horse-battery-7';


// Issue 17 items 1, 2, 3, 5: a relying party built with openid-client against identity's OpenID
// Provider — discovery, code + PKCE through the hosted sign-in form, ID token, userinfo, refresh,
// introspection, revocation, back-channel logout on deactivation — and the attacks it must refuse.
describe('identity as an OpenID Provider, driven by openid-client (issue 17; Postgres)', () => {
  let h: IdentityHarness;
  let issuer: string;
  let app: Awaited<ReturnType<typeof startApplication>>;
  const tenantId = randomUUID();
  const otherTenantId = randomUUID();
  let sitterId: string;
  let owner: Record<string, string>;
  let client: { clientId: string; clientSecret: string };
  let config: oidc.Configuration;

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    h = await startIdentity({ env: { PORT: String(port), PUBLIC_URL: issuer, OIDC_BACKCHANNEL_PRIVATE: 'true', LOG_LEVEL: process.env.IDENTITY_TEST_LOG ?? 'silent' } });
    app = await startApplication();
    const root = await h.account(tenantId, 'root', null, 'Happy Paws');
    const ownerId = await h.person({ tenantId, roleKey: 'owner', accountId: root });
    sitterId = await h.person({ tenantId, roleKey: 'staff', accountId: root, firstName: 'Sam', lastName: 'Whiskers', email: 'sam@happypaws.example' });
    owner = h.tokens.bearer({ tenantId, personId: ownerId, roles: ['owner'] });
    await h.loginWithPassword(tenantId, sitterId, 'sam.whiskers', PASSWORD, owner);
    const nora = await h.person({ tenantId, roleKey: 'staff', accountId: root, firstName: 'Nora', lastName: 'Night' });
    await h.loginWithPassword(tenantId, nora, 'nora.night', PASSWORD, owner);
    const registered = await h.call('POST', '/oauth/clients', {
      name: 'Walk planner', redirectUris: [`${app.base}/cb`], postLogoutRedirectUris: [`${app.base}/bye`], public: false,
      backchannelLogoutUri: `${app.base}/backchannel`, scopes: ['openid', 'profile', 'email', 'offline_access', 'roster'],
    }, owner);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    client = registered.body;
    config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  });
  afterAll(async () => {
    await app?.close();
    await h?.stop();
  });

  const signIn = (ua: UserAgent, username: string, password: string) => signInThroughForm(config, `${app.base}/cb`, username, password, ua, 'openid profile email offline_access roster');

  it('discovery: the issuer is the URL it is fetched from, every endpoint it lists exists, RS256 beside ES256', async () => {
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, issuer);
    assert.ok(meta.id_token_signing_alg_values_supported?.includes('RS256') && meta.id_token_signing_alg_values_supported.includes('ES256'));
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(meta.response_types_supported, ['code'], 'the code flow only');
    assert.ok(!meta.grant_types_supported?.includes('implicit'), JSON.stringify(meta.grant_types_supported));
    const endpoints = [
      ['GET', meta.authorization_endpoint], ['POST', meta.token_endpoint], ['GET', meta.userinfo_endpoint], ['GET', meta.jwks_uri],
      ['POST', meta.revocation_endpoint], ['POST', meta.introspection_endpoint], ['GET', meta.end_session_endpoint],
    ] as const;
    for (const [method, endpoint] of endpoints) {
      assert.ok(endpoint?.startsWith(`${issuer}/`), `${endpoint}`);
      const res = await fetch(endpoint!, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' } : {}) });
      assert.notEqual(res.status, 404, `${method} ${endpoint} answers`);
    }
    const jwks = await (await fetch(meta.jwks_uri!)).json() as { keys: { alg: string; d?: string }[] };
    assert.deepEqual([...new Set(jwks.keys.map((k) => k.alg))].sort(), ['ES256', 'RS256']);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private part published');
  });

  it('code + PKCE through the hosted form: ID token (RS256), userinfo with sub and claims, refresh rotated, introspection, revocation', async () => {
    const ua = new UserAgent();
    const { done, verifier, state } = await signIn(ua, 'sam.whiskers', PASSWORD);
    assert.ok(done.stopped, `redirected to the application: ${done.url}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: state });
    const claims = tokens.claims()!;
    // state comes back unchanged on the callback; the nonce is in the ID token (replay protection).
    assert.equal(new URL(done.url).searchParams.get('state'), state);
    assert.equal(claims.nonce, state);
    await assert.rejects(oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: 'another-state' }), 'a mismatched state is caught');
    assert.equal(claims.sub, sitterId);
    assert.equal(claims.iss, issuer);
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, sitterId);
    assert.equal(info.sub, sitterId);
    assert.equal(info.email, 'sam@happypaws.example');
    assert.equal(info.name, 'Sam Whiskers');
    assert.equal(info.tid, tenantId);
    assert.deepEqual(info.roles, ['staff']);

    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, true);
    await oidc.tokenRevocation(config, refreshed.access_token);
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);
    // The used refresh token again: refused, and the grant it belongs to is revoked (reuse detection).
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token));
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!));
  });

  it('attacks: a code used twice (its tokens revoked), a wrong verifier, an unregistered redirect_uri (a page, no redirect), no CSRF token, another tenant\'s client, wrong passwords', async () => {
    const ua = new UserAgent();
    const { done, verifier, state } = await signIn(ua, 'sam.whiskers', PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: state });
    await assert.rejects(oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: state }));
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false, 'tokens of a code used twice are revoked');

    const again = await signIn(new UserAgent(), 'sam.whiskers', PASSWORD);
    await assert.rejects(oidc.authorizationCodeGrant(config, new URL(again.done.url), { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: again.state, expectedNonce: again.state }));

    const evil = new URL(config.serverMetadata().authorization_endpoint!);
    for (const [k, v] of Object.entries({ client_id: client.clientId, redirect_uri: 'https://evil.example/cb', response_type: 'code', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })) evil.searchParams.set(k, v);
    const refused = await new UserAgent().request(evil.href);
    assert.equal(refused.status, 400);
    assert.equal(refused.location, null, 'never a redirect to an unregistered redirect_uri');
    assert.match(refused.html, /redirect_uri/);
    assert.match(String(refused.headers.get('content-security-policy')), /default-src 'none'/);

    const noCsrf = new UserAgent();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: `${app.base}/cb`, scope: 'openid', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const form = await noCsrf.go(url.href);
    const action = /action="([^"]+)"/.exec(form.html)![1]!;
    const forged = await noCsrf.request(new URL(action, issuer).href, { form: { username: 'sam.whiskers', password: PASSWORD } });
    assert.equal(forged.status, 403);
    assert.equal(forged.location, null);

    // Wrong password and unknown username read the same (L8).
    const wrong = await signIn(new UserAgent(), 'sam.whiskers', 'not-the-password-1');
    const unknown = await signIn(new UserAgent(), 'nobody.here', 'not-the-password-1');
    for (const r of [wrong.done, unknown.done]) {
      assert.equal(r.status, 401);
      assert.match(r.html, /The username or the password is wrong/);
    }

    // A client of another tenant: Sam's right password reads as a wrong one there.
    const otherOwner = h.tokens.bearer({ tenantId: otherTenantId, personId: randomUUID(), roles: ['owner'] });
    const foreign = (await h.call('POST', '/oauth/clients', { name: 'Elsewhere', redirectUris: [`${app.base}/cb`], public: true }, otherOwner)).body;
    const foreignConfig = await oidc.discovery(new URL(issuer), foreign.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const foreignUrl = oidc.buildAuthorizationUrl(foreignConfig, { redirect_uri: `${app.base}/cb`, scope: 'openid', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    // Signed in to tenant A's application in this browser already: tenant B's client still gets no code, only the sign-in page.
    const foreignUa = new UserAgent();
    await signIn(foreignUa, 'sam.whiskers', PASSWORD);
    const foreignForm = await foreignUa.go(foreignUrl.href, {}, `${app.base}/cb`);
    assert.equal(foreignForm.stopped, false, `no code for another tenant's client through single sign-on: ${foreignForm.url}`);
    assert.match(foreignForm.html, /<title>Sign in<\/title>/);
    const crossTenant = await foreignUa.submit(foreignForm, { username: 'sam.whiskers', password: PASSWORD }, `${app.base}/cb`);
    assert.equal(crossTenant.stopped, false);
    assert.match(crossTenant.html, /The username or the password is wrong/);
  });

  it('clients per tenant: the secret is shown once and stored hashed; rotate; list; another tenant sees none; delete', async () => {
    const [row] = await h.identity.ctx.prisma.$queryRawUnsafe<{ secret_hash: string }[]>('SELECT secret_hash FROM oauth_client WHERE id = $1', client.clientId);
    assert.ok(row!.secret_hash.startsWith('sha256:') && !row!.secret_hash.includes(client.clientSecret));
    const listed = await h.call('GET', '/oauth/clients', undefined, owner);
    assert.ok(listed.body.items.some((c: { clientId: string; clientSecret?: string }) => c.clientId === client.clientId && c.clientSecret === undefined));
    const other = h.tokens.bearer({ tenantId: randomUUID(), personId: randomUUID(), roles: ['owner'] });
    assert.deepEqual((await h.call('GET', '/oauth/clients', undefined, other)).body.items, []);
    assert.equal((await h.call('POST', `/oauth/clients/${client.clientId}/secret`, undefined, other)).status, 404);
    assert.equal((await h.call('GET', '/oauth/clients', undefined, h.tokens.bearer({ tenantId, personId: sitterId, roles: ['staff'] }))).status, 403);
    const bad = await h.call('POST', '/oauth/clients', { name: 'x', redirectUris: ['javascript:alert(1)'], public: true }, owner);
    assert.equal(bad.status, 400);

    const temp = (await h.call('POST', '/oauth/clients', { name: 'Temp', redirectUris: [`${app.base}/cb`], public: false }, owner)).body;
    const rotated = await h.call('POST', `/oauth/clients/${temp.clientId}/secret`, undefined, owner);
    assert.equal(rotated.status, 200);
    const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`${temp.clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' });
    const introspect = (secret: string) => fetch(config.serverMetadata().introspection_endpoint!, { method: 'POST', headers: basic(secret), body: 'token=nothing' });
    assert.equal((await introspect(temp.clientSecret)).status, 401, 'the old secret stops working');
    assert.equal((await introspect(rotated.body.clientSecret)).status, 200);
    assert.equal((await h.call('DELETE', `/oauth/clients/${temp.clientId}`, undefined, owner)).status, 204);
    assert.equal((await introspect(rotated.body.clientSecret)).status, 401);
  });

  it('revocation reaches the application: deactivating the person sends a back-channel logout token within a second; refresh and introspection stop', async () => {
    const ua = new UserAgent();
    const { done, verifier, state } = await signIn(ua, 'sam.whiskers', PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: state });
    const sid = tokens.claims()!.sid as string;
    assert.ok(sid, 'the ID token names the session (back-channel logout needs it)');
    const sessions = await h.identity.ctx.prisma.$queryRawUnsafe<{ account_id: string | null }[]>(`SELECT account_id FROM oidc_model WHERE kind = 'Session'`);
    assert.ok(sessions.some((s) => s.account_id === sitterId), JSON.stringify(sessions));
    const before = app.logoutTokens.length;
    const sentAt = Date.now();
    await h.bus.publish([lifecycle('user.deactivated', tenantId, sitterId, 2)]);
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    // Every session of the person is signed out (earlier tests opened some too): one token per session.
    const verified = async (token: string) => jwtVerify(token, jwks, { issuer, audience: client.clientId });
    const received = await waitFor('the logout token of this session', async () => {
      for (const t of app.logoutTokens.slice(before)) if ((await verified(t.token)).payload.sid === sid) return t;
      return null;
    }, 5_000);
    assert.ok(received.at - sentAt < 1_000, `within a second: ${received.at - sentAt} ms`);
    const { payload, protectedHeader } = await verified(received.token);
    assert.equal(payload.sub, sitterId);
    assert.ok(payload.events && 'http://schemas.openid.net/event/backchannel-logout' in (payload.events as object));
    assert.equal(payload.nonce, undefined);
    assert.ok(['RS256', 'ES256'].includes(protectedHeader.alg));
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!));
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
    console.log(`back-channel logout: deactivation event → logout token received ${received.at - sentAt} ms`);
  });

  it('RP-initiated logout: the confirmation page, then back to the application; its other sessions get a logout token; a forged id_token_hint is refused', async () => {
    const ua = new UserAgent();
    const { done, verifier, state } = await signIn(ua, 'nora.night', PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: state });
    const sid = tokens.claims()!.sid;
    const before = app.logoutTokens.length;
    const end = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${app.base}/bye`, state: 'bye-state' });
    const confirm = await ua.go(end.href);
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, /<title>Sign out<\/title>/);
    assert.match(String(confirm.headers.get('content-security-policy')), /default-src 'none'/);
    const out = await ua.submit(confirm, { logout: 'yes' }, `${app.base}/bye`);
    assert.ok(out.stopped && out.url.startsWith(`${app.base}/bye`) && new URL(out.url).searchParams.get('state') === 'bye-state', out.url);
    await waitFor('the logout token of the ended session', async () => app.logoutTokens.slice(before).some((t) => decodeJwt(t.token).sid === sid) || null, 5_000);

    // alg "none" and a made-up kid in the hint: an error page, nobody signed out, no redirect.
    const [h1, p1] = tokens.id_token!.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p1}.`;
    const otherKid = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h1!, 'base64url').toString()), kid: 'not-a-key' })).toString('base64url')}.${p1}.${tokens.id_token!.split('.')[2]}`;
    for (const hint of [unsigned, otherKid]) {
      const forged = await new UserAgent().request(oidc.buildEndSessionUrl(config, { id_token_hint: hint, post_logout_redirect_uri: `${app.base}/bye` }).href);
      assert.equal(forged.status, 400, forged.html.slice(0, 200));
      assert.equal(forged.location, null);
    }
  });

  it('L8 on the form: repeated wrong passwords are throttled like POST /sessions, and then even the right one gets the same answer', async () => {
    let status = 0;
    for (let i = 0; i < 15 && status !== 429; i++) status = (await signIn(new UserAgent(), 'nora.night', `wrong-password-${i}-x`)).done.status;
    assert.equal(status, 429, 'throttled');
    const right = await signIn(new UserAgent(), 'nora.night', PASSWORD);
    assert.equal(right.done.status, 429);
    assert.match(right.done.html, /Too many attempts/);
  });

  it('a public client must send PKCE: an authorization request without it comes back as an error, no code', async () => {
    const publicClient = (await h.call('POST', '/oauth/clients', { name: 'SPA', redirectUris: [`${app.base}/cb`], public: true }, owner)).body;
    const url = new URL(config.serverMetadata().authorization_endpoint!);
    for (const [k, v] of Object.entries({ client_id: publicClient.clientId, redirect_uri: `${app.base}/cb`, response_type: 'code', scope: 'openid', state: 's' })) url.searchParams.set(k, v);
    const reply = await new UserAgent().request(url.href);
    assert.ok(reply.location?.startsWith(`${app.base}/cb`), String(reply.location));
    const back = new URL(reply.location!);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
    assert.equal(back.searchParams.get('code'), null);
  });

  it('hostile input on the pages and the provider\'s endpoints: a 4xx page or OAuth error, never a 5xx', async () => {
    const form = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const calls: [string, RequestInit?][] = [
      ['/signin/not-an-interaction'], ['/signin/%00'], ['/signin/x'.repeat(300)],
      ['/signin/not-an-interaction', form('csrf=x&username=a&password=b')], ['/signin/not-an-interaction/password', form('csrf=x')],
      ['/account', form('username=a&password=b')], ['/account/password', form('newPassword=a&confirmPassword=a')], ['/account', form('%ZZ=%ZZ')],
      ['/invitations/short/accept'], ['/invitations/' + 'a'.repeat(300) + '/accept'], ['/invitations/' + 'a'.repeat(40) + '/accept', form('intent=register&csrf=x')],
      ['/oauth2/token', form('grant_type=authorization_code&code=nope&redirect_uri=x')], ['/oauth2/token', form('grant_type=password&username=a&password=b')],
      ['/oauth2/authorize?client_id=nope&response_type=code&scope=openid&redirect_uri=https://x.example'], ['/oauth2/authorize?client_id=%00'],
      ['/oauth2/introspect', form('token=x')], ['/oauth2/revoke', form('token=x')], ['/oauth2/userinfo'], ['/oauth2/logout?id_token_hint=abc'],
      ['/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' }],
    ];
    for (const [path, init] of calls) {
      const res = await fetch(`${issuer}${path}`, { redirect: 'manual', ...init });
      assert.ok(res.status >= 300 && res.status < 500, `${init?.method ?? 'GET'} ${path.slice(0, 60)} → ${res.status}`);
    }
  });

  it('client authentication: a confidential client authenticates with client_secret_basic or client_secret_post; a wrong secret or none is refused; a public client has no secret', async () => {
    const introspect = (headers: Record<string, string>, body: string) =>
      fetch(config.serverMetadata().introspection_endpoint!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
    const post = (await h.call('POST', '/oauth/clients', { name: 'Poster', redirectUris: [`${app.base}/cb`], public: false, tokenEndpointAuthMethod: 'client_secret_post' }, owner)).body;
    assert.equal(post.tokenEndpointAuthMethod, 'client_secret_post');
    assert.equal((await introspect({}, `token=x&client_id=${post.clientId}&client_secret=${post.clientSecret}`)).status, 200);
    // oidc-provider takes either secret method from a confidential client (both carry the same secret).
    assert.equal((await introspect(basic(post.clientId, post.clientSecret), 'token=x')).status, 200);
    assert.equal((await introspect({}, `token=x&client_id=${post.clientId}`)).status, 401, 'no secret');
    assert.equal((await introspect({}, `token=x&client_id=${post.clientId}&client_secret=wrong`)).status, 401);
    // The main client is registered for client_secret_basic (the default).
    assert.equal((await introspect(basic(client.clientId, client.clientSecret), 'token=x')).status, 200);
    assert.equal((await introspect(basic(client.clientId, `${client.clientSecret}x`), 'token=x')).status, 401);
    const spa = (await h.call('POST', '/oauth/clients', { name: 'SPA 2', redirectUris: [`${app.base}/cb`], public: true }, owner)).body;
    assert.equal(spa.clientSecret, undefined, 'a public client has no secret');
  });
});
