import { randomUUID } from 'node:crypto';
import type { Actor } from '@roster/contracts';
import type { SealingPublicKey } from '@roster/platform/crypto/sealing';
import { seal } from '@roster/platform/crypto/sealing';
import { badRequest, conflict, forbidden, notFound } from '@roster/platform/errors';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { canInAccount, type Caller } from '../access/caller.js';
import { recordAudit } from '../audit/audit.js';
import type { DirectoryDb, DirectoryTx } from '../db/client.js';
import { channelFor, decideEdit, decideResend, decideWithdraw, INVITATION_TTL_MS, type InvitationState, type StoredInvitationStatus } from './invitation.js';
import { emailKey, knownPeopleAmong, phoneKey, requireAccount, requireRole, type Contact, type KnownInvitee } from './lookups.js';
import { newAcceptanceToken } from './token.js';

export interface Invitee {
  firstName: string;
  lastName: string;
  email?: string | undefined;
  phone?: string | undefined;
}


export type InvitationRow = Awaited<ReturnType<DirectoryDb['invitation']['findUniqueOrThrow']>>;

const stateOf = (row: InvitationRow): InvitationState => ({
  status: row.status as StoredInvitationStatus, expiresAt: row.expiresAt, acceptedPersonId: row.acceptedPersonId,
});

/**
 * The caller may hand out `roleKey` in `accountId`: they hold invitations.manage there (or above
 * it), and nobody hands out a role above their own rank (P2, roles.ts).
 */
async function requireGrantable(tx: DirectoryTx, caller: Caller, accountId: string, roleKey: string): Promise<void> {
  await requireAccount(tx, caller.tenantId, accountId);
  const role = await requireRole(tx, caller.tenantId, roleKey);
  if (!(await canInAccount(tx, caller, 'invitations.manage', accountId))) {
    throw forbidden(`you may not invite people into account ${accountId}: your roles there do not include invitations.manage`);
  }
  if (role.rank > caller.rank) throw forbidden(`the role "${roleKey}" is above your own: you cannot invite someone into it`);
}

/**
 * 409 when an invitee is already known in the tenant (by e-mail or phone) and the invitation
 * could not be accepted: already a member of the account, archived, or of the other kind (a
 * client invited into a staff role or the reverse). Someone from another branch is welcome.
 */
async function refuseUnfitInvitees(tx: DirectoryTx, tenantId: string, accountId: string, roleKey: string, invitees: readonly Contact[]): Promise<void> {
  const known = await knownPeopleAmong(tx, tenantId, accountId, invitees);
  const who = (list: KnownInvitee[]) => list.map((k) => ({ personId: k.personId, email: k.email, phone: k.phone }));
  const members = known.filter((k) => k.member);
  if (members.length > 0) {
    throw conflict('already a member of this account: give them another role with the access endpoints instead of an invitation', { members: who(members) });
  }
  const archived = known.filter((k) => k.status === 'archived');
  if (archived.length > 0) throw conflict('archived in this tenant: restore them before inviting them', { archived: who(archived) });
  const unfit = known.filter((k) => (k.kind === 'client') !== (roleKey === 'client'));
  if (unfit.length > 0) {
    throw conflict(`the role ${roleKey} does not fit: ${roleKey === 'client' ? 'they are staff' : 'they are a client (invite them with the role client)'}`, { people: who(unfit) });
  }
}

function createdEvent(row: InvitationRow, token: string, tokenHash: string, sealing: SealingPublicKey, resend: boolean, actor: Actor) {
  return eventFor('directory', {
    type: 'invitation.created', subject: row.id, tenantId: row.tenantId,
    data: {
      invitationId: row.id, accountId: row.accountId, roleKey: row.roleKey,
      invitee: { firstName: row.firstName, lastName: row.lastName, email: row.email, phone: row.phone },
      channel: row.channel as 'email' | 'sms',
      token: seal(sealing, token), tokenHash, expiresAt: row.expiresAt.toISOString(), resend, actor,
    },
  });
}

/**
 * P8: invites people into `accountId` with `roleKey`, one invitation (and one link) each. All or
 * nothing: one invitee who is already a member of the account, or already invited to it, refuses
 * the whole request (409 naming them).
 */
export async function invitePeople(
  db: DirectoryDb, sealing: SealingPublicKey, caller: Caller,
  request: { accountId: string; roleKey: string; invitees: readonly Invitee[] }, now = new Date(),
): Promise<InvitationRow[]> {
  const seen = new Set<string>();
  for (const i of request.invitees) {
    for (const key of [emailKey(i.email) && `e:${emailKey(i.email)}`, phoneKey(i.phone) && `p:${phoneKey(i.phone)}`]) {
      if (!key) continue;
      if (seen.has(key)) throw badRequest(`${key.slice(2)} is invited twice in this request`);
      seen.add(key);
    }
  }
  return db.$transaction(async (tx) => {
    const tenantId = caller.tenantId;
    await requireGrantable(tx, caller, request.accountId, request.roleKey);
    await refuseUnfitInvitees(tx, tenantId, request.accountId, request.roleKey, request.invitees);
    const emails = request.invitees.map((i) => emailKey(i.email)).filter((e): e is string => e !== null);
    const phones = request.invitees.map((i) => phoneKey(i.phone)).filter((p): p is string => p !== null);
    const pending = await tx.$queryRaw<{ id: string; email: string | null; phone: string | null }[]>`
      SELECT id, email, phone FROM invitation
      WHERE tenant_id = ${tenantId}::uuid AND account_id = ${request.accountId}::uuid AND status = 'pending' AND expires_at > ${now}
        AND (lower(email) = ANY(${emails}::text[]) OR NULLIF(regexp_replace(phone, '[^0-9]', '', 'g'), '') = ANY(${phones}::text[]))`;
    if (pending.length > 0) {
      throw conflict('already invited to this account: resend the pending invitation instead', { invitations: pending });
    }
    const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
    const rows: InvitationRow[] = [];
    const events = [];
    for (const invitee of request.invitees) {
      const { token, tokenHash } = newAcceptanceToken();
      const row = await tx.invitation.create({
        data: {
          id: randomUUID(), tenantId, accountId: request.accountId, roleKey: request.roleKey,
          firstName: invitee.firstName, lastName: invitee.lastName, email: invitee.email ?? null, phone: invitee.phone ?? null,
          channel: channelFor(invitee), tokenHash, expiresAt, invitedBy: caller.personId,
        },
      });
      rows.push(row);
      events.push(createdEvent(row, token, tokenHash, sealing, false, caller.actor));
    }
    await stageEvents(tx, events);
    await recordAudit(tx, ...rows.map((r) => ({
      tenantId, actor: caller.actor, action: 'invitation.created', subjectId: r.id, accountIds: [r.accountId],
      detail: { roleKey: r.roleKey, channel: r.channel, firstName: r.firstName, lastName: r.lastName, email: r.email, phone: r.phone },
    })));
    return rows;
  });
}

async function lockInvitation(tx: DirectoryTx, tenantId: string, id: string): Promise<InvitationRow> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM invitation WHERE id = ${id}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound(`invitation ${id}`);
  return tx.invitation.findUniqueOrThrow({ where: { id } });
}

/** P8: edits the rights (account, role) of an invitation before it is accepted (`invitation.updated`). */
export async function editInvitation(
  db: DirectoryDb, caller: Caller, id: string, change: { accountId?: string | undefined; roleKey?: string | undefined }, now = new Date(),
): Promise<InvitationRow> {
  return db.$transaction(async (tx) => {
    const tenantId = caller.tenantId;
    const row = await lockInvitation(tx, tenantId, id);
    decideEdit(stateOf(row), now);
    const accountId = change.accountId ?? row.accountId;
    const roleKey = change.roleKey ?? row.roleKey;
    if (accountId === row.accountId && roleKey === row.roleKey) return row;
    // Handing out the invitation's current role is also bounded by rank: a manager cannot re-point an owner invitation.
    await requireGrantable(tx, caller, row.accountId, row.roleKey);
    await requireGrantable(tx, caller, accountId, roleKey);
    await refuseUnfitInvitees(tx, tenantId, accountId, roleKey, [row]);
    const updated = await tx.invitation.update({ where: { id }, data: { accountId, roleKey } });
    await stageEvents(tx, [eventFor('directory', {
      type: 'invitation.updated', subject: id, tenantId,
      data: { invitationId: id, accountId, roleKey, expiresAt: updated.expiresAt.toISOString(), actor: caller.actor },
    })]);
    await recordAudit(tx, {
      tenantId, actor: caller.actor, action: 'invitation.updated', subjectId: id, accountIds: [...new Set([row.accountId, accountId])],
      detail: { from: { accountId: row.accountId, roleKey: row.roleKey }, to: { accountId, roleKey } },
    });
    return updated;
  });
}

/** P8: sends the invitation again with a new token (the old link stops working) and a new expiry. */
export async function resendInvitation(
  db: DirectoryDb, sealing: SealingPublicKey, caller: Caller, id: string, now = new Date(),
): Promise<InvitationRow> {
  return db.$transaction(async (tx) => {
    const tenantId = caller.tenantId;
    const row = await lockInvitation(tx, tenantId, id);
    const { expiresAt } = decideResend(stateOf(row), now);
    await requireGrantable(tx, caller, row.accountId, row.roleKey);
    const { token, tokenHash } = newAcceptanceToken();
    const updated = await tx.invitation.update({ where: { id }, data: { tokenHash, expiresAt, sentCount: { increment: 1 } } });
    await stageEvents(tx, [createdEvent(updated, token, tokenHash, sealing, true, caller.actor)]);
    await recordAudit(tx, {
      tenantId, actor: caller.actor, action: 'invitation.resent', subjectId: id, accountIds: [row.accountId],
      detail: { channel: row.channel, sentCount: updated.sentCount },
    });
    return updated;
  });
}

/** P8: withdraws a pending invitation; its link stops working (`invitation.withdrawn`). */
export async function withdrawInvitation(db: DirectoryDb, caller: Caller, id: string, now = new Date()): Promise<InvitationRow> {
  return db.$transaction(async (tx) => {
    const tenantId = caller.tenantId;
    const row = await lockInvitation(tx, tenantId, id);
    decideWithdraw(stateOf(row), now);
    await requireGrantable(tx, caller, row.accountId, row.roleKey);
    const updated = await tx.invitation.update({ where: { id }, data: { status: 'withdrawn', settledAt: now } });
    await stageEvents(tx, [eventFor('directory', {
      type: 'invitation.withdrawn', subject: id, tenantId, data: { invitationId: id, actor: caller.actor },
    })]);
    await recordAudit(tx, { tenantId, actor: caller.actor, action: 'invitation.withdrawn', subjectId: id, accountIds: [row.accountId] });
    return updated;
  });
}
