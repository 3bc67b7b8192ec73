import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Actor } from '@roster/contracts';
import { badRequest, forbidden, notFound } from '@roster/platform/errors';
import type { Caller } from '../access/caller.js';
import { rootAccountOf } from '../accounts/accounts.js';
import { recordAudit } from '../audit/audit.js';
import type { DirectoryDb } from '../db/client.js';
import { unknownReference } from '../errors.js';
import { findRole } from '../roles/definitions.js';
import { ScimError } from './errors.js';

/**
 * B3: a tenant's SCIM bearer tokens. Issued by an owner or an admin (tenant-wide) and shown
 * once; kept as their SHA-256 (hex). A token carries where the people it provisions land: an
 * account (the tenant's root unless given) and a role (`staff` unless given), and its issuer's
 * rank, above which it acts on no one.
 */
export const SCIM_ACTOR: Actor = { kind: 'scim', personId: null, impersonatorId: null };
const PREFIX = 'scim_';

export type ScimTokenRow = Awaited<ReturnType<DirectoryDb['scimToken']['findUniqueOrThrow']>>;

export const scimTokenDto = (t: ScimTokenRow) => ({
  id: t.id, name: t.name, accountId: t.accountId, roleKey: t.roleKey, issuerRank: t.issuerRank, createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null, revokedAt: t.revokedAt?.toISOString() ?? null,
});

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

function requireTokenIssuer(caller: Caller): void {
  // A token reaches every staff member of the tenant: someone whose roles reach one branch cannot issue one.
  if (!caller.tenantWide || (!caller.principal.permissions.has('roles.manage') && !caller.principal.roles.includes('owner'))) {
    throw forbidden('a SCIM token reaches the whole tenant: it is issued by an owner or an admin');
  }
}

export async function issueScimToken(
  db: DirectoryDb, caller: Caller, input: { name: string; accountId?: string | undefined; roleKey?: string | undefined },
): Promise<{ token: string; row: ScimTokenRow }> {
  requireTokenIssuer(caller);
  const tenantId = caller.tenantId;
  return db.$transaction(async (tx) => {
    const accountId = input.accountId ?? (await rootAccountOf(tx, tenantId));
    if (!accountId || !(await tx.account.findFirst({ where: { id: accountId, tenantId }, select: { id: true } }))) {
      throw unknownReference('account', [accountId ?? 'root']);
    }
    const roleKey = input.roleKey ?? 'staff';
    const role = await findRole(tx, tenantId, roleKey);
    if (!role) throw unknownReference('role', [roleKey]);
    if (roleKey === 'client') throw badRequest('SCIM provisions staff: give a staff role, not client');
    if (role.rank > caller.rank) throw forbidden(`the role "${roleKey}" is above your own: a token you issue cannot hand it out`);
    const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = await tx.scimToken.create({
      data: { id: randomUUID(), tenantId, name: input.name, tokenHash: hashOf(token), accountId, roleKey, issuerRank: caller.rank, createdBy: caller.actor.personId },
    });
    await recordAudit(tx, { tenantId, actor: caller.actor, action: 'scim_token.issued', subjectId: row.id, accountIds: [accountId], detail: { name: row.name, roleKey } });
    return { token, row };
  });
}

export async function listScimTokens(db: DirectoryDb, caller: Caller): Promise<ScimTokenRow[]> {
  requireTokenIssuer(caller);
  return db.scimToken.findMany({ where: { tenantId: caller.tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 200 });
}

/** Revokes a token at once (idempotent: revoking it again changes nothing). */
export async function revokeScimToken(db: DirectoryDb, caller: Caller, id: string): Promise<void> {
  requireTokenIssuer(caller);
  await db.$transaction(async (tx) => {
    const row = await tx.scimToken.findFirst({ where: { id, tenantId: caller.tenantId } });
    if (!row) throw notFound(`SCIM token ${id}`);
    if (row.revokedAt) return;
    await tx.scimToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await recordAudit(tx, { tenantId: caller.tenantId, actor: caller.actor, action: 'scim_token.revoked', subjectId: id, accountIds: [row.accountId], detail: { name: row.name } });
  });
}

/** Who a SCIM request speaks for: the tenant of its token, and where provisioned people land. */
export interface ScimClient {
  tokenId: string;
  tenantId: string;
  accountId: string;
  roleKey: string;
  /** The token acts on no one ranked above its issuer (P2, L7): see scim/rank.ts. */
  issuerRank: number;
}

/** Checks `Authorization: Bearer scim_…` against the stored hashes; a SCIM 401 otherwise. */
export async function authenticateScim(db: DirectoryDb, authorization: string | undefined): Promise<ScimClient> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new ScimError(401, 'send the tenant\'s SCIM token as Authorization: Bearer <token>');
  const row = await db.scimToken.findUnique({ where: { tokenHash: hashOf(match[1]!) } });
  if (!row || row.revokedAt) throw new ScimError(401, 'the SCIM token is not valid (unknown or revoked)');
  // Last use is kept to the minute: an SRE sees which tokens are alive without a write per request.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.scimToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  }
  return { tokenId: row.id, tenantId: row.tenantId, accountId: row.accountId, roleKey: row.roleKey, issuerRank: row.issuerRank };
}
