import { z } from 'zod';
import type { Permission } from '@roster/contracts';

/**
 * The access token's claims (rule 7, 8). Registered claims plus:
 * - `tid` tenant, `kind` client|staff, `roles` role keys held, `perms` the union of their permissions
 *   (custom roles resolved by identity when the token is issued), `sid` the session;
 * - `pwd` true while a temporary password must be changed: the token can only set a password (L3);
 * - `act` RFC 8693 actor when an admin acts as the subject (L7, B5);
 * - `iat_ms` issuance in milliseconds, compared with the subject's "not before" (B2): `iat` has
 *   whole seconds only, which would let a token issued just before a revocation through.
 */
export const accessClaims = z.object({
  iss: z.string(),
  sub: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  iat: z.number(),
  iat_ms: z.number().optional(),
  jti: z.string().min(1),
  tid: z.string().min(1),
  kind: z.enum(['client', 'staff']),
  roles: z.array(z.string()),
  perms: z.array(z.string()),
  sid: z.string().min(1),
  pwd: z.boolean().optional(),
  act: z.object({ sub: z.string().min(1) }).optional(),
});
export type AccessClaims = z.infer<typeof accessClaims>;

/** Who a request speaks for, from a verified token. */
export interface Principal {
  personId: string;
  tenantId: string;
  kind: 'client' | 'staff';
  roles: readonly string[];
  permissions: ReadonlySet<Permission | string>;
  sessionId: string;
  tokenId: string;
  /** True while the temporary password must be changed: only `PUT /password` and `GET /me` accept it. */
  passwordChangeRequired: boolean;
  /** The admin acting through impersonation (`act.sub`), or null. */
  impersonatorId: string | null;
  issuedAtMs: number;
  expiresAt: Date;
}

export const principalFromClaims = (c: AccessClaims): Principal => ({
  personId: c.sub,
  tenantId: c.tid,
  kind: c.kind,
  roles: c.roles,
  permissions: new Set(c.perms),
  sessionId: c.sid,
  tokenId: c.jti,
  passwordChangeRequired: c.pwd === true,
  impersonatorId: c.act?.sub ?? null,
  issuedAtMs: c.iat_ms ?? c.iat * 1000,
  expiresAt: new Date(c.exp * 1000),
});

/** The audience every Roster service accepts. */
export const TOKEN_AUDIENCE = 'roster';
