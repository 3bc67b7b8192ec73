// Rule 7 / B2: every service verifies access tokens locally and refuses forged, foreign, expired
// and revoked ones. Attacks from issue 4's list: alg none, HS256 with the public key, unknown kid,
// expired, another issuer, older than the subject's not-before.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { generateKeyEnv } from '../../src/auth/dev-keys.js';
import { parsePublicKeys, parseSigningKeys } from '../../src/auth/keys.js';
import { NotBeforeList } from '../../src/auth/not-before.js';
import { revocationOf, revokeLocally } from '../../src/auth/revocation-feed.js';
import { TokenSigner } from '../../src/auth/signer.js';
import { staticKeys, TokenVerifier } from '../../src/auth/verifier.js';
import { DomainError } from '../../src/errors.js';
import { deactivation } from '../support/events.js';

const keys = generateKeyEnv();
const signer = new TokenSigner(parseSigningKeys(keys.IDENTITY_JWT_SIGNING_KEYS), 'roster');
const tenantId = randomUUID();
const personId = randomUUID();
const request = { personId, tenantId, kind: 'staff' as const, roles: ['manager'], permissions: ['people.read'], sessionId: randomUUID(), ttlSeconds: 60 };

const verifierWith = (notBefore = new NotBeforeList()) =>
  new TokenVerifier({ issuer: 'roster', keys: staticKeys(parsePublicKeys(keys.JWT_PUBLIC_KEYS)), notBefore });

const refused = async (verifier: TokenVerifier, token: string, detail: RegExp) => {
  await assert.rejects(verifier.verify(token), (e: unknown) => e instanceof DomainError && e.kind === 'unauthenticated' && detail.test(e.detail ?? ''));
};

describe('access token verification (rule 7)', () => {
  it('accepts a token identity signed and tells who it speaks for', async () => {
    const principal = await verifierWith().verify(signer.sign(request).token);
    assert.equal(principal.personId, personId);
    assert.equal(principal.tenantId, tenantId);
    assert.deepEqual(principal.roles, ['manager']);
    assert.ok(principal.permissions.has('people.read'));
    assert.equal(principal.impersonatorId, null);
  });

  it('refuses alg none, HS256 signed with the public key, an unknown kid, another issuer, an expired token', async () => {
    const good = signer.sign(request).token;
    const [, payload] = good.split('.');
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const kid = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString()).kid as string;
    const verifier = verifierWith();
    await refused(verifier, `${header({ alg: 'none', typ: 'JWT', kid })}.${payload}.`, /algorithm none is not accepted/);
    const claims = jwt.decode(good) as object;
    await refused(verifier, jwt.sign(claims, keys.JWT_PUBLIC_KEYS, { algorithm: 'HS256', keyid: kid }), /HS256 is not accepted/);
    const stranger = new TokenSigner(parseSigningKeys(generateKeyEnv().IDENTITY_JWT_SIGNING_KEYS), 'roster');
    await refused(verifier, stranger.sign(request).token, /signing key .* is unknown/);
    await refused(verifier, new TokenSigner(parseSigningKeys(keys.IDENTITY_JWT_SIGNING_KEYS), 'https://evil.example').sign(request).token, /issuer invalid/);
    await refused(verifier, signer.sign({ ...request, ttlSeconds: -60 }).token, /expired/);
    await refused(verifier, `${good.slice(0, -4)}AAAA`, /invalid signature|not valid/);
  });

  it('refuses a token issued in the future, by iat or iat_ms, beyond a 5 s clock skew (issue 15)', async () => {
    const verifier = verifierWith();
    const good = jwt.decode(signer.sign(request).token, { complete: true })!;
    const signingKey = parseSigningKeys(keys.IDENTITY_JWT_SIGNING_KEYS)[0]!;
    const resign = (claims: Record<string, unknown>) => jwt.sign({ ...(good.payload as object), ...claims }, signingKey.privateKey, { algorithm: 'ES256', keyid: good.header.kid });
    const hourAhead = Date.now() + 3_600_000;
    await refused(verifier, resign({ iat: Math.floor(hourAhead / 1000), iat_ms: hourAhead, exp: Math.floor(hourAhead / 1000) + 600 }), /issued in the future/);
    await refused(verifier, resign({ iat_ms: hourAhead }), /issued in the future/);
    await refused(verifier, resign({ iat: Math.floor(hourAhead / 1000) }), /issued in the future/);
    // A clock a second or two ahead is not an attack.
    const principal = await verifier.verify(resign({ iat: Math.floor((Date.now() + 2_000) / 1000), iat_ms: Date.now() + 2_000 }));
    assert.equal(principal.personId, personId);
  });

  it('refuses a token issued before the subject was revoked, and accepts one issued after (B2)', async () => {
    const notBefore = new NotBeforeList();
    const verifier = verifierWith(notBefore);
    const before = signer.sign(request).token;
    await new Promise((r) => setTimeout(r, 5));
    notBefore.raise(personId, Date.now());
    await refused(verifier, before, /revoked/);
    await new Promise((r) => setTimeout(r, 2));
    assert.equal((await verifier.verify(signer.sign(request).token)).personId, personId);
  });

  it('ends an impersonation when the impersonating admin is revoked', async () => {
    const notBefore = new NotBeforeList();
    const adminId = randomUUID();
    const token = signer.sign({ ...request, impersonatorId: adminId }).token;
    assert.equal((await verifierWith(notBefore).verify(token)).impersonatorId, adminId);
    notBefore.raise(adminId, Date.now() + 1);
    await refused(verifierWith(notBefore), token, /revoked/);
  });

  it('never lowers a not-before: an older revocation arriving late changes nothing', () => {
    const list = new NotBeforeList();
    assert.equal(list.raise('p', 2_000), true);
    assert.equal(list.raise('p', 1_000), false);
    assert.equal(list.notBefore('p'), 2_000);
  });

  it('reads the revocation instant from each revoking event', () => {
    const event = deactivation(personId, 1, tenantId);
    assert.deepEqual(revocationOf(event), { subject: personId, atMs: Date.parse(event.time), reason: 'user.deactivated' });
  });

  it("the producer's replica refuses at once what its committed events revoke, before the bus brings them back", async () => {
    const token = signer.sign(request).token;
    const notBefore = new NotBeforeList();
    await verifierWith(notBefore).verify(token);
    const event = { ...deactivation(personId, 1, tenantId), time: new Date(Date.now() + 1000).toISOString() };
    revokeLocally(notBefore, [event]);
    await refused(verifierWith(notBefore), token, /revoked/);
  });

  it('says plainly when a service has no verification keys', async () => {
    const verifier = new TokenVerifier({ issuer: 'roster', keys: null, notBefore: new NotBeforeList() });
    await refused(verifier, signer.sign(request).token, /not configured.*JWT_PUBLIC_KEYS/);
  });
});
