import {
  createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync,
  randomBytes, randomUUID, type JsonWebKey, type KeyObject,
} from 'node:crypto';
import type { SealedSecret } from '@roster/contracts';
import { KeyMaterialError, readJwks } from '../auth/keys.js';

/**
 * Secrets that travel in events (temporary passwords, invitation tokens) are sealed to the
 * notifications service's public key (rule 5): ECDH-ES on P-256 with an ephemeral key, HKDF-SHA256,
 * AES-256-GCM. Only the holder of the private key opens them; the bus, logs and spans see ciphertext.
 *
 * ciphertext = base64url( ephemeral public key (65 bytes, uncompressed) | iv (12) | tag (16) | data )
 */
export const SEALING_ALGORITHM = 'ECDH-ES+HKDF-SHA256+A256GCM';
const INFO = Buffer.from('roster sealed secret v1');

export interface SealingPublicKey {
  kid: string;
  key: KeyObject;
}

export class SealingError extends Error {
  override readonly name = 'SealingError';
}

const uncompressed = (key: KeyObject): Buffer => {
  const { x, y } = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
};

const fromUncompressed = (bytes: Buffer): KeyObject =>
  createPublicKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: bytes.subarray(1, 33).toString('base64url'), y: bytes.subarray(33, 65).toString('base64url') },
  });

const contentKey = (shared: Buffer, kid: string): Buffer =>
  Buffer.from(hkdfSync('sha256', shared, Buffer.from(kid), INFO, 32));

/** SEALING_PUBLIC_KEY: one public JWK (or a JWKS whose first key is used), inline or a file path. */
export function parseSealingPublicKey(value: string): SealingPublicKey {
  const text = value.trim();
  const jwk = (text.startsWith('{') && !text.includes('"keys"') ? JSON.parse(text) : readJwks(value, 'SEALING_PUBLIC_KEY')[0]) as JsonWebKey & { kid?: string };
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.kid) throw new KeyMaterialError('SEALING_PUBLIC_KEY: expected an EC P-256 JWK with a kid');
  const { d: _private, ...publicPart } = jwk;
  return { kid: jwk.kid, key: createPublicKey({ key: publicPart, format: 'jwk' }) };
}

/** SEALING_PRIVATE_KEYS (notifications only): a JWKS of private keys; every kid listed can be opened. */
export function parseSealingPrivateKeys(value: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  readJwks(value, 'SEALING_PRIVATE_KEYS').forEach((jwk, i) => {
    const kid = (jwk as { kid?: string }).kid;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !kid) throw new KeyMaterialError(`SEALING_PRIVATE_KEYS: key ${i} must be a private EC P-256 JWK with a kid`);
    keys.set(kid, createPrivateKey({ key: jwk, format: 'jwk' }));
  });
  return keys;
}

export function seal(recipient: SealingPublicKey, plaintext: string): SealedSecret {
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.key });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', contentKey(shared, recipient.kid), iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([uncompressed(ephemeral.publicKey), iv, cipher.getAuthTag(), data]);
  return { kid: recipient.kid, alg: SEALING_ALGORITHM, ciphertext: sealed.toString('base64url') };
}

export function open(privateKeys: ReadonlyMap<string, KeyObject>, sealed: SealedSecret): string {
  if (sealed.alg !== SEALING_ALGORITHM) throw new SealingError(`unsupported sealing algorithm ${sealed.alg}`);
  const key = privateKeys.get(sealed.kid);
  if (!key) throw new SealingError(`no private key for sealing kid ${sealed.kid}`);
  const bytes = Buffer.from(sealed.ciphertext, 'base64url');
  if (bytes.length < 65 + 12 + 16) throw new SealingError('sealed secret too short');
  try {
    const shared = diffieHellman({ privateKey: key, publicKey: fromUncompressed(bytes.subarray(0, 65)) });
    const decipher = createDecipheriv('aes-256-gcm', contentKey(shared, sealed.kid), bytes.subarray(65, 77));
    decipher.setAuthTag(bytes.subarray(77, 93));
    return Buffer.concat([decipher.update(bytes.subarray(93)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealingError('sealed secret could not be opened (wrong key or tampered)');
  }
}

/** A fresh sealing key pair as JWKs (embedded start, tests). */
export function generateSealingJwks(kid = `seal-${randomUUID().slice(0, 8)}`): { privateJwks: string; publicJwk: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const { d: _private, ...publicPart } = jwk;
  return {
    privateJwks: JSON.stringify({ keys: [{ ...jwk, kid, use: 'enc' }] }),
    publicJwk: JSON.stringify({ ...publicPart, kid, use: 'enc' }),
  };
}
