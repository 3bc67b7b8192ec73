import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';

/**
 * A web application that signs its users in with Roster, as a platform team would write one with
 * openid-client: `/login` sends the browser to identity (code + PKCE), `/cb` takes the code back
 * and greets the person by the name userinfo gives, `/logout` signs out at identity (RP-initiated)
 * and comes back to `/bye`.
 */
export async function startWebApplication(issuer: string, register: (redirectUri: string, postLogoutRedirectUri: string) => Promise<{ clientId: string; clientSecret: string }>) {
  const pending = new Map<string, string>(); // state → PKCE verifier
  // Discovered once the server listens (its callback URL is part of the registration).
  const rp: { config?: oidc.Configuration; idToken?: string } = {};
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', base);
      if (url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        pending.set(state, verifier);
        const to = oidc.buildAuthorizationUrl(rp.config!, {
          redirect_uri: `${base}/cb`, scope: 'openid profile email', state,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        });
        res.writeHead(302, { location: to.href }).end();
        return;
      }
      if (url.pathname === '/cb') {
        const state = url.searchParams.get('state') ?? '';
        const tokens = await oidc.authorizationCodeGrant(rp.config!, url, { pkceCodeVerifier: pending.get(state)!, expectedState: state });
        const claims = tokens.claims()!;
        rp.idToken = tokens.id_token;
        // The ID token names the person (sub); the profile comes from userinfo (OpenID Connect Core 5.4).
        const me = await oidc.fetchUserInfo(rp.config!, tokens.access_token, claims.sub);
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Walk planner</title><h1>Hello ${String(me.name)}</h1><p id="sub">${claims.sub}</p>`);
        return;
      }
      if (url.pathname === '/logout') {
        const to = oidc.buildEndSessionUrl(rp.config!, { id_token_hint: rp.idToken!, post_logout_redirect_uri: `${base}/bye` });
        res.writeHead(302, { location: to.href }).end();
        return;
      }
      if (url.pathname === '/bye') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Walk planner</title><h1>Goodbye</h1>');
        return;
      }
      res.writeHead(404).end();
    })().catch((error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = await register(`${base}/cb`, `${base}/bye`);
  rp.config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  return { base, clientId: client.clientId, close: () => new Promise<void>((r) => server.close(() => r())) };
}
