import { isEmailAddress, isPhoneNumber, type Actor, type EventEnvelope, type EventOf } from '@roster/contracts';
import { DomainError } from '@roster/platform/errors';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { EffectReport } from '@roster/platform/consumers';
import { recordAudit, SYSTEM_ACTOR } from '../audit/audit.js';
import type { DirectoryTx } from '../db/client.js';
import { createPersonInTx } from '../people/commands.js';
import { decideAcceptance, type StoredInvitationStatus } from './invitation.js';

const STEP = 'join_account';

/**
 * P8: identity reports that an invitee registered (a new person) or logged in (an existing person
 * of the tenant, e.g. from another branch). The directory creates the person with identity's id
 * or adds the membership, marks the invitation accepted, and reports its cascade step, all in the
 * transaction of the inbox claim. An invitation that was withdrawn, had expired when accepted or
 * was accepted by someone else is left as it is and the step says why (outcome failed).
 */
export async function acceptInvitation(tx: DirectoryTx, event: EventOf<'invitation.accepted'>): Promise<EffectReport> {
  const tenantId = event.tenantid;
  const data = event.data;
  const step = (outcome: 'applied' | 'no_change' | 'failed', counts: Record<string, number>, detail: string | null = null): EffectReport =>
    ({ step: STEP, outcome, counts, detail });
  const refuse = async (reason: string) => {
    await recordAudit(tx, {
      tenantId, actor: SYSTEM_ACTOR, action: 'invitation.acceptance_refused', subjectId: data.invitationId,
      accountIds: [data.accountId], operationId: event.correlationid, detail: { personId: data.personId, reason },
    });
    return step('failed', {}, reason);
  };

  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM invitation WHERE id = ${data.invitationId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (locked.length === 0) return refuse(`there is no invitation ${data.invitationId} in this tenant`);
  const invitation = await tx.invitation.findUniqueOrThrow({ where: { id: data.invitationId } });
  const decision = decideAcceptance(
    { status: invitation.status as StoredInvitationStatus, expiresAt: invitation.expiresAt, acceptedPersonId: invitation.acceptedPersonId },
    data.personId, new Date(event.time),
  );
  if (decision.outcome === 'refused') return refuse(decision.reason);
  if (decision.outcome === 'already_accepted') return step('no_change', { peopleCreated: 0, membershipsAdded: 0, rolesChanged: 0 });

  // The directory's invitation is the truth about the rights (they may have been edited after identity saw them).
  const { accountId, roleKey } = invitation;
  const actor: Actor = { kind: 'person', personId: data.personId, impersonatorId: null };
  const existing = await tx.person.findFirst({ where: { id: data.personId, tenantId } });
  let counts: { peopleCreated: number; membershipsAdded: number; rolesChanged: number };
  if (existing) {
    if (existing.status === 'archived') return refuse(`person ${existing.id} is archived: restore them before they can join an account`);
    if ((existing.kind === 'client') !== (roleKey === 'client')) return refuse(`person ${existing.id} is ${existing.kind === 'client' ? 'a client' : 'staff'}; the role ${roleKey} does not fit`);
    counts = { peopleCreated: 0, ...(await joinAccount(tx, tenantId, existing.id, accountId, roleKey, actor)) };
  } else {
    if (!data.newPerson) return refuse(`person ${data.personId} is not in this tenant`);
    const registration = data.registration;
    // The shared rules apply to what arrives by event as to what arrives by HTTP (issue 16 item 8):
    // an address nobody could reach is not stored (the invited one, proven by the link, stays).
    const usable = <T extends string | null | undefined>(value: T, ok: (v: string) => boolean) => (value && ok(value) ? value : null);
    try {
      await createPersonInTx(tx, tenantId, {
        id: data.personId, kind: roleKey === 'client' ? 'client' : 'staff',
        firstName: registration?.firstName ?? invitation.firstName, lastName: registration?.lastName ?? invitation.lastName,
        // The address the link went to was proven by following it: kept when the form left it out.
        email: usable(registration?.email, isEmailAddress) ?? invitation.email,
        phone: usable(registration?.phone, isPhoneNumber) ?? invitation.phone,
        accountId, roleKey,
      }, actor);
    } catch (error) {
      // Refusals (duplicate e-mail or phone, a role or account gone) come before any write.
      if (error instanceof DomainError && error.isRefusal) return refuse(error.detail ?? error.title);
      throw error;
    }
    // Identity created the login with the person (its login.granted may have come before the person existed here).
    await tx.$executeRaw`
      UPDATE person SET has_login = true, login_enabled = true, login_changed_at = ${new Date(event.time)}
       WHERE id = ${data.personId}::uuid AND tenant_id = ${tenantId}::uuid AND login_changed_at IS NULL`;
    counts = { peopleCreated: 1, membershipsAdded: 1, rolesChanged: 0 };
  }
  await tx.invitation.update({
    where: { id: invitation.id },
    data: { status: 'accepted', acceptedPersonId: data.personId, settledAt: new Date(event.time) },
  });
  await recordAudit(tx, {
    tenantId, actor, action: 'invitation.accepted', subjectId: invitation.id, accountIds: [accountId], operationId: event.correlationid,
    detail: {
      personId: data.personId, newPerson: counts.peopleCreated === 1, roleKey,
      ...(data.registration ? { marketingConsent: data.registration.marketingConsent, termsAcceptedAt: data.registration.termsAcceptedAt } : {}),
    },
  });
  return step('applied', counts);
}

/** Gives an existing person `roleKey` in `accountId` (P8: someone from another branch joins), announced like P4 access. */
async function joinAccount(
  tx: DirectoryTx, tenantId: string, personId: string, accountId: string, roleKey: string, actor: Actor,
): Promise<{ membershipsAdded: number; rolesChanged: number }> {
  const current = await tx.membership.findFirst({ where: { tenantId, personId, accountId } });
  if (current?.roleKey === roleKey) return { membershipsAdded: 0, rolesChanged: 0 };
  let event: EventEnvelope;
  if (!current) {
    await tx.membership.create({ data: { tenantId, personId, accountId, roleKey } });
    event = eventFor('directory', { type: 'access.granted', subject: personId, tenantId, data: { personId, accountId, roleKey, actor } });
  } else {
    await tx.membership.update({ where: { personId_accountId: { personId, accountId } }, data: { roleKey } });
    event = eventFor('directory', {
      type: 'role.changed', subject: personId, tenantId,
      data: { personId, accountId, fromRoleKey: current.roleKey, toRoleKey: roleKey, notBefore: new Date().toISOString(), actor },
    });
  }
  await stageEvents(tx, [event]);
  await recordAudit(tx, {
    tenantId, actor, action: current ? 'role.changed' : 'access.granted', subjectId: personId, accountIds: [accountId],
    detail: current ? { fromRoleKey: current.roleKey, toRoleKey: roleKey, via: 'invitation' } : { roleKey, via: 'invitation' },
  });
  return current ? { membershipsAdded: 0, rolesChanged: 1 } : { membershipsAdded: 1, rolesChanged: 0 };
}
