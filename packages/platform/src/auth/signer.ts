import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TOKEN_AUDIENCE, type AccessClaims } from './claims.js';
import { publicJwks, TOKEN_ALGORITHM, type SigningKey } from './keys.js';

export interface AccessTokenRequest {
  personId: string;
  tenantId: string;
  kind: 'client' | 'staff';
  roles: readonly string[];
  permissions: readonly string[];
  sessionId: string;
  passwordChangeRequired?: boolean;
  /** The impersonating admin (L7): becomes the `act` claim. */
  impersonatorId?: string | null;
  ttlSeconds: number;
}

export interface SignedAccessToken {
  token: string;
  tokenId: string;
  expiresIn: number;
  issuedAtMs: number;
}

/** Signs access tokens with the current key (identity; tests mint tokens with it too). */
export class TokenSigner {
  private readonly current: SigningKey;

  constructor(
    private readonly keys: readonly SigningKey[],
    readonly issuer: string,
  ) {
    if (keys.length === 0) throw new Error('TokenSigner needs at least one signing key');
    this.current = keys[0]!;
  }

  sign(r: AccessTokenRequest): SignedAccessToken {
    const issuedAtMs = Date.now();
    const tokenId = randomUUID();
    const claims: Omit<AccessClaims, 'iss' | 'aud' | 'exp' | 'iat' | 'sub' | 'jti'> = {
      iat_ms: issuedAtMs,
      tid: r.tenantId,
      kind: r.kind,
      roles: [...r.roles],
      perms: [...r.permissions],
      sid: r.sessionId,
      ...(r.passwordChangeRequired ? { pwd: true } : {}),
      ...(r.impersonatorId ? { act: { sub: r.impersonatorId } } : {}),
    };
    const token = jwt.sign({ ...claims, iat: Math.floor(issuedAtMs / 1000) }, this.current.privateKey, {
      algorithm: TOKEN_ALGORITHM,
      keyid: this.current.kid,
      issuer: this.issuer,
      audience: TOKEN_AUDIENCE,
      subject: r.personId,
      jwtid: tokenId,
      expiresIn: r.ttlSeconds,
    });
    return { token, tokenId, expiresIn: r.ttlSeconds, issuedAtMs };
  }

  /** `/.well-known/jwks.json`: every key, current and previous, public halves only. */
  jwks() {
    return publicJwks(this.keys);
  }
}
