import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { TokenSigner } from '@roster/platform/auth/signer';
import { DomainError } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import type { SqlTx } from '@roster/platform/db/database';
import { tokenRoles, type PersonAccess } from '../people/access.js';
import { insertSession } from './queries.js';

/** Refresh tokens live this long without use; each use rotates them (rule 7). */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3_600_000;

const signers = new WeakMap<IdentityContext, TokenSigner>();

/** Identity's signer: the first of JWT_SIGNING_KEYS signs, all are published (rotation). */
export function signerOf(ctx: IdentityContext): TokenSigner {
  let signer = signers.get(ctx);
  if (!signer) {
    if (!ctx.auth.signingKeys?.length) {
      throw new DomainError('unavailable', 'signing-unavailable', 'Sign-in unavailable', 'identity has no JWT_SIGNING_KEYS: it cannot issue tokens');
    }
    signer = new TokenSigner(ctx.auth.signingKeys, ctx.auth.issuer);
    signers.set(ctx, signer);
  }
  return signer;
}

/** An opaque refresh token (256 random bits) and the SHA-256 under which it is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface SessionTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number;
  passwordChangeRequired: boolean;
  tokenType: 'Bearer';
}

export function signAccessToken(
  ctx: IdentityContext, access: PersonAccess, sessionId: string,
  options: { passwordChangeRequired?: boolean; impersonatorId?: string | null; ttlSeconds?: number } = {},
) {
  const { roles, permissions } = tokenRoles(access);
  return signerOf(ctx).sign({
    personId: access.personId, tenantId: access.tenantId, kind: access.kind, roles, permissions, sessionId,
    passwordChangeRequired: options.passwordChangeRequired ?? false,
    impersonatorId: options.impersonatorId ?? null,
    ttlSeconds: options.ttlSeconds ?? ctx.config.accessTokenTtlSeconds,
  });
}

/**
 * Opens a session (one refresh-token family) and issues its first tokens, in one statement on `db`
 * (a transaction or the client). With `consumeTemporaryHash`, the temporary password is used up
 * in the same statement; null when it already was (a concurrent login won).
 */
export async function openSession(
  ctx: IdentityContext, db: SqlTx, access: PersonAccess, passwordChangeRequired: boolean, consumeTemporaryHash: string | null = null,
): Promise<SessionTokens | null> {
  const sessionId = randomUUID();
  const refresh = newRefreshToken();
  // The application's clock, like sessions_not_before (the database's now() is the transaction's start).
  const createdAt = new Date();
  const opened = await insertSession(db, {
    sessionId, tenantId: access.tenantId, personId: access.personId, passwordChangeRequired, createdAt,
    expiresAt: new Date(createdAt.getTime() + REFRESH_TOKEN_TTL_MS), refreshTokenHash: refresh.hash, consumeTemporaryHash,
  });
  if (!opened) return null;
  const signed = signAccessToken(ctx, access, sessionId, { passwordChangeRequired });
  return { accessToken: signed.token, refreshToken: refresh.token, expiresIn: signed.expiresIn, passwordChangeRequired, tokenType: 'Bearer' };
}
