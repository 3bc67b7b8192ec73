import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '@roster/platform/auth/claims';
import { notFound } from '@roster/platform/errors';
import type { IdentityDb } from '../db/client.js';

/** The scopes a client may ask for: OpenID's, and `roster` (tenant and roles in the ID token and userinfo). */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'phone', 'offline_access', 'roster'] as const;

export interface ClientRow {
  id: string;
  tenant_id: string;
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  public: boolean;
  secret_hash: string | null;
  token_endpoint_auth_method: string;
  backchannel_logout_uri: string | null;
  scopes: string[];
  created_by: string | null;
  created_at: Date;
  secret_rotated_at: Date | null;
}

export interface NewClient {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[] | undefined;
  public: boolean;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | undefined;
  backchannelLogoutUri?: string | undefined;
  scopes?: string[] | undefined;
}

/** The custom metadata naming the tenant a client belongs to (only its people sign in to it). */
export const TENANT_METADATA = 'roster_tenant_id';

const secretHash = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex')}`;

/** Compares a presented secret with the stored hash in constant time (the secret itself is never stored). */
export function secretMatches(storedHash: string | undefined, presented: string): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(storedHash);
  const b = Buffer.from(secretHash(presented));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** oidc-provider's view of a client: the stored hash stands in the secret's place (see provider.ts). */
export function clientMetadataOf(r: ClientRow): Record<string, unknown> {
  return {
    client_id: r.id,
    client_name: r.name,
    redirect_uris: r.redirect_uris,
    post_logout_redirect_uris: r.post_logout_redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: r.public ? 'none' : r.token_endpoint_auth_method,
    ...(r.public ? {} : { client_secret: r.secret_hash }),
    ...(r.backchannel_logout_uri ? { backchannel_logout_uri: r.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    scope: r.scopes.join(' '),
    id_token_signed_response_alg: 'RS256',
    [TENANT_METADATA]: r.tenant_id,
  };
}

export const clientDto = (r: ClientRow) => ({
  clientId: r.id, name: r.name, redirectUris: r.redirect_uris, postLogoutRedirectUris: r.post_logout_redirect_uris, public: r.public,
  tokenEndpointAuthMethod: r.public ? 'none' : r.token_endpoint_auth_method, backchannelLogoutUri: r.backchannel_logout_uri,
  scopes: r.scopes, createdBy: r.created_by, createdAt: r.created_at.toISOString(), secretRotatedAt: r.secret_rotated_at?.toISOString() ?? null,
});
export type ClientDto = ReturnType<typeof clientDto>;

/** POST /oauth/clients: registers a client of the caller's tenant; a confidential one's secret is in this answer only. */
export async function registerClient(db: IdentityDb, me: Principal, c: NewClient): Promise<ClientDto & { clientSecret?: string }> {
  const id = `rc_${randomBytes(12).toString('base64url')}`;
  const secret = c.public ? null : randomBytes(32).toString('base64url');
  const [row] = await db.$queryRawUnsafe<ClientRow[]>(
    `INSERT INTO oauth_client (id, tenant_id, name, redirect_uris, post_logout_redirect_uris, public, secret_hash, token_endpoint_auth_method,
                               backchannel_logout_uri, scopes, created_by)
     VALUES ($1, $2::uuid, $3, $4::text[], $5::text[], $6, $7, $8, $9, $10::text[], $11::uuid) RETURNING *`,
    id, me.tenantId, c.name, c.redirectUris, c.postLogoutRedirectUris ?? [], c.public, secret ? secretHash(secret) : null,
    c.public ? 'none' : c.tokenEndpointAuthMethod ?? 'client_secret_basic', c.backchannelLogoutUri ?? null,
    c.scopes ?? ['openid', 'profile', 'email', 'offline_access'], me.personId,
  );
  return { ...clientDto(row!), ...(secret ? { clientSecret: secret } : {}) };
}

export async function listClients(db: IdentityDb, me: Principal): Promise<ClientDto[]> {
  const rows = await db.$queryRawUnsafe<ClientRow[]>('SELECT * FROM oauth_client WHERE tenant_id = $1::uuid ORDER BY created_at, id', me.tenantId);
  return rows.map(clientDto);
}

/** POST /oauth/clients/{id}/secret: a new secret, shown once; the old one stops working at once. */
export async function rotateClientSecret(db: IdentityDb, me: Principal, id: string): Promise<ClientDto & { clientSecret: string }> {
  const secret = randomBytes(32).toString('base64url');
  const [row] = await db.$queryRawUnsafe<ClientRow[]>(
    `UPDATE oauth_client SET secret_hash = $3, secret_rotated_at = now() WHERE id = $1 AND tenant_id = $2::uuid AND NOT public RETURNING *`,
    id, me.tenantId, secretHash(secret),
  );
  if (!row) throw notFound(`confidential client ${id}`);
  return { ...clientDto(row), clientSecret: secret };
}

/** DELETE /oauth/clients/{id}: the client and every grant and token issued to it go. */
export async function deleteClient(db: IdentityDb, me: Principal, id: string): Promise<void> {
  const deleted = await db.$transaction(async (tx) => {
    const n = await tx.$executeRawUnsafe('DELETE FROM oauth_client WHERE id = $1 AND tenant_id = $2::uuid', id, me.tenantId);
    if (n === 1) await tx.$executeRawUnsafe(`DELETE FROM oidc_model WHERE payload ->> 'clientId' = $1 OR payload ->> 'client_id' = $1`, id);
    return n;
  });
  if (deleted !== 1) throw notFound(`client ${id}`);
}
