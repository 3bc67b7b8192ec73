// Rule 7: key rotation. A new key is put first in JWT_SIGNING_KEYS (it signs), the previous one
// stays listed (it verifies and is published): tokens signed before the rotation keep working.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { generateSigningJwk } from '@roster/platform/auth/keys';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../../packages/platform/test/support/tokens.js';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity: signing key rotation (Postgres)', () => {
  let database: TestDatabase;
  let h: IdentityHarness | undefined;
  beforeAll(async () => {
    database = await createTestDatabase('roster_identity_rotation');
  });
  afterAll(async () => {
    await h?.stop();
    await database?.drop();
  });

  it('a token signed by the previous key still verifies after the rotation; new tokens carry the new kid; JWKS lists both', async () => {
    const tokens = testTokens();
    const tenantId = randomUUID();
    h = await startIdentity({ database, tokens });
    const personId = await h.person({ tenantId });
    const before = await h.loginWithPassword(tenantId, personId, `rot-${personId.slice(0, 6)}`, 'rotate the keys now', tokens.bearer({ tenantId, roles: ['admin'] }));
    const oldKid = (jwt.decode(before.accessToken, { complete: true })!.header.kid)!;
    await h.stop();

    const previous = JSON.parse(tokens.env.IDENTITY_JWT_SIGNING_KEYS).keys[0];
    const next = generateSigningJwk('sig-next');
    // Verification from identity's own signing keys (JWT_PUBLIC_KEYS unset), as after a rotation.
    h = await startIdentity({ database, tokens, env: { IDENTITY_JWT_SIGNING_KEYS: JSON.stringify({ keys: [next, previous] }), JWT_PUBLIC_KEYS: '' } });
    const me = await h.call('GET', '/me', undefined, h.bearer(before.accessToken));
    assert.equal(me.status, 200, JSON.stringify(me.body));
    const after = await h.call('POST', '/sessions', { username: `rot-${personId.slice(0, 6)}`, password: 'rotate the keys now' });
    assert.equal(jwt.decode(after.body.accessToken, { complete: true })!.header.kid, 'sig-next');
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(after.body.accessToken))).status, 200);
    const jwks = await h.call('GET', '/.well-known/jwks.json');
    assert.deepEqual(jwks.body.keys.map((k: { kid: string }) => k.kid), ['sig-next', oldKid]);
  });
});
