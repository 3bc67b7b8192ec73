import { createHash, hkdfSync } from 'node:crypto';
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { parseRsaSigningKeys } from '@roster/platform/auth/keys';
import type { IdentityContext } from '../context.js';
import { postgresAdapter } from './adapter.js';
import { findAccount } from './accounts.js';
import { OIDC_SCOPES, secretMatches, TENANT_METADATA } from './clients.js';
import { errorPage, logoutPage, loggedOutPage, PAGE_HEADERS } from './pages.js';

/** Where oidc-provider's endpoints live under identity's public URL (the issuer); discovery lists only these. */
export const OIDC_ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  jwks: '/oauth2/jwks',
  revocation: '/oauth2/revoke',
  introspection: '/oauth2/introspect',
  end_session: '/oauth2/logout',
} as const;

/** Paths oidc-provider answers (its routes and the discovery document). */
export const isOidcPath = (path: string): boolean =>
  path === '/.well-known/openid-configuration' || path.startsWith('/oauth2/');

/** The page a sign-in (an interaction) is shown on. */
export const signInPath = (uid: string) => `/signin/${uid}`;

/**
 * Identity as an OpenID Provider (issue 17) on `oidc-provider`, a certified implementation:
 * authorization code with PKCE (S256, required), refresh tokens (rotated; a reused one revokes
 * its grant), ID tokens in RS256 or ES256, userinfo, revocation, introspection, RP-initiated and
 * back-channel logout. Its state lives in identity's Postgres database (`oidc_model`); clients are
 * identity's per-tenant records. `issuer` is identity's public URL (PUBLIC_URL).
 */
export function createOpenIdProvider(ctx: IdentityContext): Provider | null {
  const ecKeys = ctx.auth.signingKeys;
  if (!ecKeys?.length || !ctx.config.oidcSigningKeys) {
    ctx.logger.warn('identity has no OIDC_SIGNING_KEYS (RS256) or JWT_SIGNING_KEYS: the OpenID Provider is off (npm run keys makes both)');
    return null;
  }
  const rsa = parseRsaSigningKeys(ctx.config.oidcSigningKeys);
  const ec = ecKeys.map((k) => ({ ...k.privateKey.export({ format: 'jwk' }), kid: k.kid, alg: 'ES256', use: 'sig' }));
  // Cookie signing keys every replica shares, derived from the token signing key (no extra secret to manage).
  const cookieKey = Buffer.from(hkdfSync('sha256', Buffer.from(String(ec[0]!.d), 'base64url'), 'roster', 'oidc-cookies', 32)).toString('base64url');

  const configuration: Configuration = {
    adapter: postgresAdapter(ctx.prisma),
    jwks: { keys: [...rsa, ...ec] as never },
    routes: OIDC_ROUTES,
    scopes: [...OIDC_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email'],
      phone: ['phone_number'],
      roster: ['tid', 'roles'],
    },
    findAccount: (oidc, sub) => findAccount(ctx, oidc, sub),
    extraClientMetadata: { properties: [TENANT_METADATA] },
    pkce: { required: () => true },
    // The code flow only: discovery then advertises no implicit or hybrid response type.
    responseTypes: ['code'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
    },
    features: {
      devInteractions: { enabled: false },
      // A client learns about and revokes only the tokens issued to it.
      introspection: { enabled: true, allowedPolicy: (_koa, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: (_koa, client, token) => token.clientId === client.clientId },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (koa, form) => {
          // The confirmation's post ends in a redirect to the application: the CSP's form-action must allow
          // that origin too, or a browser stops at this page (found by the browser test).
          const back = koa.oidc.params?.post_logout_redirect_uri;
          koa.set(PAGE_HEADERS(typeof back === 'string' ? [new URL(back).origin] : []));
          koa.body = logoutPage(form);
        },
        postLogoutSuccessSource: (koa) => void (koa.body = loggedOutPage()),
      },
    },
    interactions: { url: (_koa, interaction) => signInPath(interaction.uid), policy: signInPolicy() },
    // First-party applications of the tenant: no consent screen; the grant covers what the client may ask.
    loadExistingGrant: async (koa: KoaContextWithOIDC) => {
      const { client, session, params } = koa.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = session.grantIdFor(client.clientId);
      const existing = grantId ? await koa.oidc.provider.Grant.find(grantId) : undefined;
      return grantFor(koa.oidc.provider, client, session.accountId, String(params?.scope ?? 'openid'), existing);
    },
    // First-party applications get a refresh token whenever they may use the grant (no consent screen to ask offline_access on).
    issueRefreshToken: (_koa, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: ctx.config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Grant: 30 * 86_400,
      Session: 14 * 86_400,
      RefreshToken: 30 * 86_400,
    },
    cookies: { keys: [cookieKey], long: { sameSite: 'lax' }, short: { sameSite: 'lax' } },
    // oidc-provider refuses loopback and private addresses (SSRF); OIDC_BACKCHANNEL_PRIVATE allows them (applications inside the cluster).
    ...(ctx.config.oidcBackchannelPrivate ? { fetch: ((url: URL | string, options: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfGuard, ...rest } = options;
      return globalThis.fetch(url, rest);
    }) as never } : {}),
    renderError: (koa, out) => {
      koa.type = 'html';
      koa.body = errorPage(out);
    },
  };
  const provider = new Provider(ctx.config.publicUrl, configuration);
  provider.proxy = ctx.config.trustProxy !== false;
  // Only the secret's SHA-256 is stored (shown once at registration): oidc-provider holds the hash
  // as `client_secret` and compares a presented secret through it. The secret is never a key
  // (HS* algorithms are not enabled), so the hash in its place is safe.
  provider.Client.prototype.compareClientSecret = function compareHashed(this: { clientSecret?: string }, actual: string) {
    return secretMatches(this.clientSecret, actual);
  } as never;
  provider.on('server_error', (_koa, err) => ctx.logger.error({ err }, 'OpenID Provider error'));
  provider.on('backchannel.error', (_koa, err, client) => ctx.logger.warn({ err: err.message, clientId: client.clientId }, 'back-channel logout failed'));
  return provider;
}

/**
 * oidc-provider's prompts, plus one: a browser already signed in as someone the client does not
 * accept (another tenant's person, one since deactivated: findAccount finds no account) is asked
 * to sign in again, instead of going on as that person.
 */
function signInPolicy() {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check(
    'account_unavailable', 'the signed-in person cannot use this application', 'login_required',
    (koa) => (koa.oidc.session?.accountId && !koa.oidc.account ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT),
  ));
  return policy;
}

/** The grant of a first-party application: what it asked for, within what it may ask. */
export async function grantFor(
  provider: Provider, client: { clientId: string; scope?: string | undefined }, accountId: string, scope: string, existing?: InstanceType<Provider['Grant']>,
) {
  const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId });
  const allowed = new Set((client.scope ?? '').split(' '));
  grant.addOIDCScope(scope.split(' ').filter((s) => allowed.has(s) || s === 'openid').join(' '));
  await grant.save();
  return grant;
}

/** A stable, non-secret fingerprint of a value (logs). */
export const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);
