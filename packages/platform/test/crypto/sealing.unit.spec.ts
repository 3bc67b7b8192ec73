// Rule 5: a secret in an event is sealed to notifications' public key; only its private key opens it.
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { generateSealingJwks, open, parseSealingPrivateKeys, parseSealingPublicKey, seal, SealingError } from '../../src/crypto/sealing.js';

describe('sealed secrets (rule 5)', () => {
  const pair = generateSealingJwks();
  const publicKey = parseSealingPublicKey(pair.publicJwk);
  const privateKeys = parseSealingPrivateKeys(pair.privateJwks);

  it('opens what was sealed to its key, and the ciphertext does not contain the secret', () => {
    const sealed = seal(publicKey, 'Temp-Password-4711');
    assert.equal(open(privateKeys, sealed), 'Temp-Password-4711');
    assert.ok(!JSON.stringify(sealed).includes('Temp-Password-4711'));
    assert.notEqual(seal(publicKey, 'Temp-Password-4711').ciphertext, sealed.ciphertext, 'each sealing uses a fresh ephemeral key');
  });

  it('refuses a tampered ciphertext and another key', () => {
    const sealed = seal(publicKey, 'secret');
    const bytes = Buffer.from(sealed.ciphertext, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    assert.throws(() => open(privateKeys, { ...sealed, ciphertext: bytes.toString('base64url') }), SealingError);
    const other = generateSealingJwks(sealed.kid);
    assert.throws(() => open(parseSealingPrivateKeys(other.privateJwks), sealed), SealingError);
    assert.throws(() => open(privateKeys, { ...sealed, kid: 'unknown' }), /no private key/);
  });
});
