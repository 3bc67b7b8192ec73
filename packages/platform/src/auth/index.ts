import type { BusLogger } from '../bus/types.js';
import type { ServiceConfig } from '../config.js';
import type { SqlClient } from '../db/database.js';
import { parsePublicKeys, parseSigningKeys, type SigningKey } from './keys.js';
import { authenticate } from './middleware.js';
import { NotBeforeList } from './not-before.js';
import { revocationSubscription } from './revocation-feed.js';
import { remoteJwks, staticKeys, TokenVerifier, type KeyResolver } from './verifier.js';

export * from './claims.js';
export * from './keys.js';
export * from './middleware.js';
export * from './not-before.js';
export * from './revocation-feed.js';
export * from './signer.js';
export * from './verifier.js';

/** What every service gets from the platform to authenticate requests (ServiceContext.auth). */
export interface ServiceAuth {
  verifier: TokenVerifier;
  notBefore: NotBeforeList;
  /** Parsed JWT_SIGNING_KEYS when this service has them (identity). */
  signingKeys: SigningKey[] | null;
  issuer: string;
  /** Route middleware: a verified bearer token is required. */
  required: ReturnType<typeof authenticate>;
  /** Same, also accepting a token whose temporary password must be changed (L3). */
  allowingPasswordChange: ReturnType<typeof authenticate>;
}

/**
 * Verification keys, in order of preference: JWT_PUBLIC_KEYS (a public JWKS, inline or a file),
 * JWT_JWKS_URL (identity's jwks.json, cached), or the public halves of JWT_SIGNING_KEYS.
 */
function keyResolver(config: ServiceConfig, signingKeys: SigningKey[] | null): KeyResolver | null {
  if (config.jwtPublicKeys) return staticKeys(parsePublicKeys(config.jwtPublicKeys));
  if (config.jwtJwksUrl) return remoteJwks(config.jwtJwksUrl);
  if (signingKeys) return staticKeys(parsePublicKeys(JSON.stringify({ keys: signingKeys.map((k) => k.publicJwk) })));
  return null;
}

export async function createServiceAuth(config: ServiceConfig, db: SqlClient, logger: BusLogger): Promise<ServiceAuth> {
  const signingKeys = config.jwtSigningKeys ? parseSigningKeys(config.jwtSigningKeys) : null;
  const keys = keyResolver(config, signingKeys);
  if (!keys) logger.warn({}, 'no JWT_PUBLIC_KEYS / JWT_JWKS_URL: every bearer token will be refused');
  const notBefore = new NotBeforeList();
  await notBefore.load(db);
  const verifier = new TokenVerifier({ issuer: config.jwtIssuer, keys, notBefore });
  return {
    verifier, notBefore, signingKeys, issuer: config.jwtIssuer,
    required: authenticate(verifier),
    allowingPasswordChange: authenticate(verifier, { allowPasswordChange: true }),
  };
}

export { revocationSubscription };
