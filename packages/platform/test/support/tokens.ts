// Tokens for tests of any service: a fresh key set (env for startService / startSystem) and a
// signer minting access tokens the services accept, exactly as identity would sign them.
import { randomUUID } from 'node:crypto';
import { generateKeyEnv, type KeyEnv } from '../../src/auth/dev-keys.js';
import { parseSigningKeys } from '../../src/auth/keys.js';
import { TokenSigner, type AccessTokenRequest } from '../../src/auth/signer.js';
import { BUILT_IN_ROLES, isBuiltInRole } from '@roster/contracts';

export interface TestTokens {
  env: KeyEnv & { JWT_ISSUER: string };
  signer: TokenSigner;
  /** A bearer token for a person holding `roles` (built-in role permissions unless `permissions` given). */
  mint(who: Partial<AccessTokenRequest> & { personId?: string; tenantId: string; roles: string[] }): string;
  /** `{ authorization: 'Bearer …' }` for supertest's `.set()`. */
  bearer(who: Parameters<TestTokens['mint']>[0]): { authorization: string };
}

export function testTokens(issuer = 'roster'): TestTokens {
  const env = { ...generateKeyEnv(), JWT_ISSUER: issuer };
  const signer = new TokenSigner(parseSigningKeys(env.IDENTITY_JWT_SIGNING_KEYS), issuer);
  const mint: TestTokens['mint'] = (who) => {
    const permissions = who.permissions ?? [...new Set(who.roles.flatMap((r) => (isBuiltInRole(r) ? [...BUILT_IN_ROLES[r].permissions] : [])))];
    return signer.sign({
      personId: who.personId ?? randomUUID(),
      tenantId: who.tenantId,
      kind: who.kind ?? (who.roles.includes('client') ? 'client' : 'staff'),
      roles: who.roles,
      permissions,
      sessionId: who.sessionId ?? randomUUID(),
      passwordChangeRequired: who.passwordChangeRequired ?? false,
      impersonatorId: who.impersonatorId ?? null,
      ttlSeconds: who.ttlSeconds ?? 600,
    }).token;
  };
  return { env, signer, mint, bearer: (who) => ({ authorization: `Bearer ${mint(who)}` }) };
}
