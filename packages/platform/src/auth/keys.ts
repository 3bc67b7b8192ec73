import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Key material for access tokens (rule 7): ES256 only. The signing side (identity) holds a JWKS
 * of private keys, the first one current, the others still published so tokens they signed keep
 * verifying through a rotation. Every service verifies with the public half.
 */
export const TOKEN_ALGORITHM = 'ES256' as const;

export interface PublicJwk extends JsonWebKey {
  kid: string;
  kty: 'EC';
  crv: 'P-256';
  alg: typeof TOKEN_ALGORITHM;
  use: 'sig';
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

export class KeyMaterialError extends Error {
  override readonly name = 'KeyMaterialError';
}

/** A JWKS given inline (`{"keys":[…]}`) or as the path of a file holding it (a mounted Secret). */
export function readJwks(value: string, what: string): JsonWebKey[] {
  const text = value.trim().startsWith('{') ? value : readFileOrThrow(value, what);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyMaterialError(`${what}: not JSON (expected a JWKS {"keys":[…]} or the path of a file holding one)`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new KeyMaterialError(`${what}: a JWKS needs a non-empty "keys" array`);
  return keys as JsonWebKey[];
}

function readFileOrThrow(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new KeyMaterialError(`${what}: neither inline JSON nor a readable file (${path})`);
  }
}

const toPublicJwk = (kid: string, key: KeyObject): PublicJwk => {
  const { x, y } = key.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x, y, kid, alg: TOKEN_ALGORITHM, use: 'sig' };
};

/** Parses the signing JWKS (private P-256 keys with `kid`). The first key signs. */
export function parseSigningKeys(value: string): SigningKey[] {
  return readJwks(value, 'JWT_SIGNING_KEYS').map((jwk, i) => {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) throw new KeyMaterialError(`JWT_SIGNING_KEYS: key ${i} must be a private EC P-256 JWK`);
    const kid = (jwk as { kid?: string }).kid;
    if (!kid) throw new KeyMaterialError(`JWT_SIGNING_KEYS: key ${i} has no kid`);
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return { kid, privateKey, publicJwk: toPublicJwk(kid, createPublicKey(privateKey)) };
  });
}

/** Parses a public JWKS into verification keys by kid. Private parts, if present, are dropped. */
export function parsePublicKeys(value: string, what = 'JWT_PUBLIC_KEYS'): Map<string, KeyObject> {
  return publicKeysFromJwks(readJwks(value, what), what);
}

export function publicKeysFromJwks(keys: readonly JsonWebKey[], what: string): Map<string, KeyObject> {
  const byKid = new Map<string, KeyObject>();
  keys.forEach((jwk, i) => {
    const kid = (jwk as { kid?: string }).kid;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !kid) throw new KeyMaterialError(`${what}: key ${i} must be an EC P-256 JWK with a kid`);
    const { d: _private, ...publicPart } = jwk;
    byKid.set(kid, createPublicKey({ key: publicPart, format: 'jwk' }));
  });
  return byKid;
}

export const publicJwks = (keys: readonly SigningKey[]): { keys: PublicJwk[] } => ({ keys: keys.map((k) => k.publicJwk) });

/** A fresh private signing JWK (embedded start, tests, `key rotation`). */
export function generateSigningJwk(kid = `sig-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`): JsonWebKey & { kid: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: TOKEN_ALGORITHM, use: 'sig' };
}

/** A new private RSA 2048 JWK for RS256 ID tokens (identity's OpenID Provider, issue 17). */
export function generateRsaSigningJwk(kid = `rs-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`): JsonWebKey & { kid: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

/** Parses OIDC_SIGNING_KEYS: private RSA JWKs, each with its `kid`; the first one signs. */
export function parseRsaSigningKeys(value: string): (JsonWebKey & { kid: string; alg: 'RS256' })[] {
  return readJwks(value, 'OIDC_SIGNING_KEYS').map((jwk, i) => {
    const kid = (jwk as { kid?: string }).kid;
    if (jwk.kty !== 'RSA' || !jwk.d) throw new KeyMaterialError(`OIDC_SIGNING_KEYS: key ${i} must be a private RSA JWK`);
    if (!kid) throw new KeyMaterialError(`OIDC_SIGNING_KEYS: key ${i} has no "kid"`);
    return { ...jwk, kid, alg: 'RS256' as const, use: 'sig' };
  });
}
