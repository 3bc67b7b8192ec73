import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateSealingJwks } from '../crypto/sealing.js';
import { generateRsaSigningJwk, generateSigningJwk } from './keys.js';

/**
 * Key material for one Roster installation as environment variables: identity's signing keys,
 * the public JWKS every service verifies with, notifications' sealing key pair. The embedded
 * start keeps it under the data folder; tests generate a fresh set. Production supplies its own
 * from Secrets (see README "Keys").
 */
export interface KeyEnv {
  IDENTITY_JWT_SIGNING_KEYS: string;
  /** Identity's RS256 keys for ID tokens (OpenID Connect Discovery requires RS256). */
  IDENTITY_OIDC_SIGNING_KEYS: string;
  JWT_PUBLIC_KEYS: string;
  SEALING_PUBLIC_KEY: string;
  NOTIFICATIONS_SEALING_PRIVATE_KEYS: string;
}

export function generateKeyEnv(): KeyEnv {
  const signing = generateSigningJwk();
  const { d: _private, ...publicPart } = signing;
  const sealing = generateSealingJwks();
  return {
    IDENTITY_JWT_SIGNING_KEYS: JSON.stringify({ keys: [signing] }),
    IDENTITY_OIDC_SIGNING_KEYS: JSON.stringify({ keys: [generateRsaSigningJwk()] }),
    JWT_PUBLIC_KEYS: JSON.stringify({ keys: [publicPart] }),
    SEALING_PUBLIC_KEY: sealing.publicJwk,
    NOTIFICATIONS_SEALING_PRIVATE_KEYS: sealing.privateJwks,
  };
}

/** Reads the key set stored at `file`, creating it (mode 600) on first use. */
export function loadOrCreateKeyEnv(file: string): KeyEnv {
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as KeyEnv;
    if (stored.IDENTITY_OIDC_SIGNING_KEYS) return stored;
    // A data folder from before issue 17: add the RS256 key, keep the rest.
    const upgraded = { ...stored, IDENTITY_OIDC_SIGNING_KEYS: JSON.stringify({ keys: [generateRsaSigningJwk()] }) };
    writeFileSync(file, JSON.stringify(upgraded, null, 2), { mode: 0o600 });
    return upgraded;
  }
  const env = generateKeyEnv();
  writeFileSync(file, JSON.stringify(env, null, 2), { mode: 0o600 });
  return env;
}
