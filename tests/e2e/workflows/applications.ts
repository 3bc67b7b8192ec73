import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { signInThroughForm, startApplication } from '../../../services/identity/test/support/relying-party.js';
import { UserAgent } from '../../../services/identity/test/support/user-agent.js';
import { NEW_PASSWORD, type Roster } from './client.js';

/**
 * Sign in to your application with Roster (issue 17): the owner registers an application; a
 * sitter signs in to it through identity's hosted form (code + PKCE, openid-client), the
 * application refreshes, introspects and revokes, a second session logs out; the owner
 * deactivates the sitter through the directory, and the application receives a back-channel
 * logout token for that session within a second of the request; the sitter's refresh token and
 * access token stop working at the provider.
 */
export async function applicationSignInWorkflow(roster: Roster): Promise<void> {
  const { rootAccountId, owner } = await roster.tenantWithOwner('Paws & Apps', 'olive@pawsapps.example');
  const sitterId = await roster.person(owner, { kind: 'staff', firstName: 'Sid', lastName: 'Apps', email: 'sid@pawsapps.example', accountId: rootAccountId, roleKey: 'staff' });
  await roster.personWithLogin(owner, sitterId, 'sid@pawsapps.example', 'sid.apps');
  const app = await startApplication();
  try {
    const client = await roster.expect(201, 'identity', 'POST', '/oauth/clients', {
      token: owner, body: { name: 'Walk planner', redirectUris: [`${app.base}/cb`], postLogoutRedirectUris: [`${app.base}/bye`], public: false, backchannelLogoutUri: `${app.base}/backchannel` },
    });
    const issuer = roster.system.envOf('identity').PUBLIC_URL!;
    const config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const { done, verifier, state } = await signInThroughForm(config, `${app.base}/cb`, 'sid.apps', NEW_PASSWORD);
    assert.ok(done.stopped, `back at the application: ${done.url}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: state });
    assert.equal(tokens.claims()!.sub, sitterId);
    assert.equal((await oidc.fetchUserInfo(config, tokens.access_token, sitterId)).email, 'sid@pawsapps.example');
    const sid = tokens.claims()!.sid;
    // Refresh (rotated), introspect, revoke: the application's everyday calls.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, true);
    await oidc.tokenRevocation(config, refreshed.access_token);
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);

    // A second browser signs in and logs out from the application (RP-initiated logout): back to the application.
    const other = new UserAgent();
    const second = await signInThroughForm(config, `${app.base}/cb`, 'sid.apps', NEW_PASSWORD, other);
    const secondTokens = await oidc.authorizationCodeGrant(config, new URL(second.done.url), { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.state });
    const confirm = await other.go(oidc.buildEndSessionUrl(config, { id_token_hint: secondTokens.id_token!, post_logout_redirect_uri: `${app.base}/bye` }).href);
    const out = await other.submit(confirm, { logout: 'yes' }, `${app.base}/bye`);
    assert.ok(out.stopped, `logged out and back at the application: ${out.url}`);

    const requested = Date.now();
    await roster.expect(202, 'directory', 'POST', `/people/${sitterId}/deactivate`, { token: owner, body: { reason: 'left' } });
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const received = await waitFor('the back-channel logout', async () => {
      for (const t of app.logoutTokens) {
        const { payload } = await jwtVerify(t.token, jwks, { issuer, audience: client.clientId });
        if (payload.sid === sid && payload.sub === sitterId) return t;
      }
      return null;
    }, 10_000);
    const ms = received.at - requested;
    console.log(`back-channel logout: deactivation request → logout token received ${ms} ms`);
    assert.ok(ms < 1_000, `within a second of the request: ${ms} ms`);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), 'the refresh token stopped working');
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
  } finally {
    await app.close();
  }
}
