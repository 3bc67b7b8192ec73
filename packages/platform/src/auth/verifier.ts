import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { unauthorized } from '../errors.js';
import { accessClaims, principalFromClaims, TOKEN_AUDIENCE, type Principal } from './claims.js';
import { publicKeysFromJwks, TOKEN_ALGORITHM } from './keys.js';
import { sessionSubject, type NotBeforeList } from './not-before.js';

/** Finds the verification key of a `kid` (undefined: unknown kid). */
export type KeyResolver = (kid: string) => Promise<KeyObject | undefined>;

export const staticKeys = (keys: ReadonlyMap<string, KeyObject>): KeyResolver => async (kid) => keys.get(kid);

/**
 * Identity's `/.well-known/jwks.json`, cached: refetched every `maxAgeMs` and when an unknown kid
 * shows up (a rotation), at most once per `cooldownMs`. Keys already fetched keep verifying when
 * identity is unreachable (rule 1: one service down never breaks another's requests).
 */
export function remoteJwks(url: string, options: { maxAgeMs?: number; cooldownMs?: number } = {}): KeyResolver {
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = 0;
  let inflight: Promise<void> | undefined;
  const refresh = () =>
    (inflight ??= (async () => {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) return;
        const body = (await response.json()) as { keys?: unknown };
        if (Array.isArray(body.keys)) keys = publicKeysFromJwks(body.keys, url);
      } catch {
        // Keep the keys we have; the next unknown kid or expiry tries again.
      } finally {
        fetchedAt = Date.now();
        inflight = undefined;
      }
    })());
  return async (kid) => {
    const age = Date.now() - fetchedAt;
    if (age > maxAgeMs || (!keys.has(kid) && age > cooldownMs)) await refresh();
    return keys.get(kid);
  };
}

export interface TokenVerifierOptions {
  issuer: string;
  keys: KeyResolver | null;
  notBefore: NotBeforeList;
  /** Seconds of clock skew tolerated on exp/iat (default 5). */
  clockToleranceSeconds?: number;
}

/**
 * Local verification of access tokens in every service (rule 7): ES256 only (so `alg: none` and
 * an HS256 token "signed" with the public key are refused), known `kid`, issuer, audience,
 * expiry, then the subject's "not before" fed by revocation events (B2).
 */
export class TokenVerifier {
  constructor(private readonly options: TokenVerifierOptions) {}

  get configured(): boolean {
    return this.options.keys !== null;
  }

  async verify(token: string): Promise<Principal> {
    if (!this.options.keys) throw unauthorized('token verification is not configured on this service (JWT_PUBLIC_KEYS or JWT_JWKS_URL)');
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw unauthorized('the bearer token is not a JWT');
    if (decoded.header.alg !== TOKEN_ALGORITHM) throw unauthorized(`token algorithm ${decoded.header.alg} is not accepted (${TOKEN_ALGORITHM} only)`);
    const kid = decoded.header.kid;
    if (!kid) throw unauthorized('the token has no kid');
    const key = await this.options.keys(kid);
    if (!key) throw unauthorized(`the token's signing key ${kid} is unknown`);
    let payload: unknown;
    try {
      payload = jwt.verify(token, key, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.options.issuer,
        audience: TOKEN_AUDIENCE,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw unauthorized('the token has expired');
      const message = error instanceof Error ? error.message : String(error);
      throw unauthorized(`the token is not valid: ${message}`);
    }
    const claims = accessClaims.safeParse(payload);
    if (!claims.success) throw unauthorized('the token lacks Roster claims');
    const principal = principalFromClaims(claims.data);
    // A token from the future (issue 15): only a signer with a wrong clock or a stolen key makes
    // one, and its iat would outlive any not-before raised before that moment (B2).
    const skewMs = (this.options.clockToleranceSeconds ?? 5) * 1000;
    if (Math.max(claims.data.iat * 1000, principal.issuedAtMs) > Date.now() + skewMs) throw unauthorized('the token was issued in the future');
    const notBefore = this.options.notBefore.notBefore(principal.personId);
    if (notBefore !== undefined && principal.issuedAtMs < notBefore) throw unauthorized('the token was revoked');
    // A revoked session (a logout, an ended impersonation): that session's tokens only.
    const sessionNotBefore = this.options.notBefore.notBefore(sessionSubject(principal.sessionId));
    if (sessionNotBefore !== undefined && principal.issuedAtMs < sessionNotBefore) throw unauthorized('the token was revoked');
    // An impersonation ends when the impersonating admin's own tokens are revoked.
    if (principal.impersonatorId) {
      const actorNotBefore = this.options.notBefore.notBefore(principal.impersonatorId);
      if (actorNotBefore !== undefined && principal.issuedAtMs < actorNotBefore) throw unauthorized('the token was revoked');
    }
    return principal;
  }
}
