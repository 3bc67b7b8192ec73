import type { Caller } from '../access/caller.js';
import type { DirectoryDb } from '../db/client.js';
import { openTimeCursor, sealTimeCursor } from '@roster/platform/paging';
import type { InvitationRow } from './commands.js';
import { statusAt, type InvitationStatus, type StoredInvitationStatus } from './invitation.js';

/** An invitation as the API shows it: never its token nor the token's hash. */
export const invitationDto = (row: InvitationRow, now = new Date()) => ({
  id: row.id,
  accountId: row.accountId,
  roleKey: row.roleKey,
  firstName: row.firstName,
  lastName: row.lastName,
  email: row.email,
  phone: row.phone,
  channel: row.channel,
  status: statusAt({ status: row.status as StoredInvitationStatus, expiresAt: row.expiresAt, acceptedPersonId: row.acceptedPersonId }, now),
  expiresAt: row.expiresAt.toISOString(),
  sentCount: row.sentCount,
  invitedBy: row.invitedBy,
  acceptedPersonId: row.acceptedPersonId,
  settledAt: row.settledAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

// Keyset over (created_at, id), newest first; the cursor is bound to the status asked for.
const fingerprintOf = (status: InvitationStatus | undefined) => `invitations:${status ?? 'all'}`;

/** P8: a tenant's invitations, by status (pending ones are those not yet expired). */
export async function listInvitations(
  db: DirectoryDb, caller: Caller, query: { status?: InvitationStatus | undefined; limit: number; cursor?: string | undefined }, now = new Date(),
) {
  const byStatus = {
    pending: { status: 'pending', expiresAt: { gt: now } },
    expired: { status: 'pending', expiresAt: { lte: now } },
    accepted: { status: 'accepted' },
    withdrawn: { status: 'withdrawn' },
  } as const;
  const tenantId = caller.tenantId;
  const binding = { tenantId, query: fingerprintOf(query.status) };
  const after = openTimeCursor(query.cursor, binding);
  const rows = await db.invitation.findMany({
    where: {
      tenantId,
      ...(await reachable(db, caller)),
      ...(query.status ? byStatus[query.status] : {}),
      ...(after ? { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return { items: page.map((r) => invitationDto(r, now)), nextCursor: rows.length > query.limit ? sealTimeCursor(page.at(-1)!.createdAt, page.at(-1)!.id, binding) : null };
}

/** One invitation the caller may see (404 otherwise, as for another tenant's). */
export const findInvitation = async (db: DirectoryDb, caller: Caller, id: string) =>
  db.invitation.findFirst({ where: { id, tenantId: caller.tenantId, ...(await reachable(db, caller)) } });

/** Owners and admins see every invitation of the tenant; others those to accounts where they manage invitations. */
async function reachable(db: DirectoryDb, caller: Caller): Promise<{ accountId?: { in: string[] } }> {
  if (caller.tenantWide) return {};
  const roots = caller.grants.filter((g) => g.permissions.has('invitations.manage')).map((g) => g.accountId);
  const accounts = roots.length === 0 ? [] : await db.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM account WHERE tenant_id = ${caller.tenantId}::uuid AND ancestors && ${roots}::uuid[]`;
  return { accountId: { in: accounts.map((a) => a.id) } };
}
