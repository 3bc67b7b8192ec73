import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { UserAgent } from './user-agent.js';

/** A test application: its callback and back-channel logout endpoint (logout tokens kept as received, with the time). */
export async function startApplication() {
  const logoutTokens: { token: string; at: number }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/backchannel' && req.method === 'POST') logoutTokens.push({ token: new URLSearchParams(body).get('logout_token') ?? '', at: Date.now() });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, logoutTokens, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * The hosted sign-in as a person does it, driven for `config`'s client: the authorization request
 * (code + PKCE) lands on identity's form, which is submitted; returns where the browser ended
 * (`stopped`: at the application's callback) with the verifier and state to exchange the code.
 */
export async function signInThroughForm(
  config: oidc.Configuration, redirectUri: string, username: string, password: string, ua = new UserAgent(), scope = 'openid profile email offline_access',
) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, state, nonce: state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const form = await ua.go(url.href);
  assert.equal(form.status, 200, form.html.slice(0, 300));
  const done = await ua.submit(form, { username, password }, redirectUri);
  return { done, verifier, state };
}
