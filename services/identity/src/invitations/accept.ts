import { randomUUID } from 'node:crypto';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { conflict, DomainError, notFound } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import type { IdentityTx } from '../db/client.js';
import { hashPassword, passwordMatches } from '../passwords/hashing.js';
import { checkPassword, REJECTION_DETAIL } from '../passwords/policy.js';
import { invalidCredentials } from '../sessions/login.js';
import { assertNotThrottled, recordFailure, recordSuccess, throttleKeys } from '../sessions/throttle.js';
import { hashRefreshToken as sha256 } from '../sessions/tokens.js';
import { isValidUsername, normalizeUsername } from '../usernames/normalize.js';

export interface Registration {
  firstName: string;
  lastName: string;
  phone: string;
  password: string;
  acceptTerms: true;
  marketingConsent: boolean;
}

const gone = (detail: string) => new DomainError('gone', 'invitation-gone', 'Invitation no longer valid', detail);

/** Why an invitation link cannot be used now, or null when it can (the JSON answer and the page share it). */
export type UnusableInvitation = 'unknown' | 'accepted' | 'withdrawn' | 'expired';
export function unusableBecause(invitation: { status: string; expiresAt: Date } | null, now = Date.now()): UnusableInvitation | null {
  if (!invitation) return 'unknown';
  if (invitation.status === 'accepted') return 'accepted';
  if (invitation.status === 'withdrawn') return 'withdrawn';
  if (invitation.expiresAt.getTime() <= now) return 'expired';
  return null;
}

/**
 * Waits (bounded, `INVITATION_LINK_WAIT_MS`) until a token's invitation is known here; true when
 * it is. The directory announces an invitation to identity and to notifications at once;
 * notifications' e-mail or SMS can reach the invitee (or a script) before identity has applied
 * `invitation.created` (or a resend's new token), and a link that works a moment later must not
 * be called unknown. An unknown token costs a few indexed reads over the wait, outside any transaction.
 */
export async function invitationArrived(ctx: Pick<IdentityContext, 'prisma' | 'config'>, token: string): Promise<boolean> {
  const hash = sha256(token);
  const deadline = Date.now() + ctx.config.invitationLinkWaitMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    const [row] = await ctx.prisma.$queryRawUnsafe<unknown[]>('SELECT 1 FROM invitation_projection WHERE token_hash = $1', hash);
    if (row) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
  }
}

/** The pending invitation a token opens, locked; precise answers otherwise (404/409/410). */
async function openInvitation(tx: IdentityTx, token: string) {
  const [row] = await tx.$queryRawUnsafe<{ id: string }[]>('SELECT id::text AS id FROM invitation_projection WHERE token_hash = $1 FOR UPDATE', sha256(token));
  const invitation = row ? await tx.invitationProjection.findUniqueOrThrow({ where: { id: row.id } }) : null;
  switch (unusableBecause(invitation)) {
    case 'unknown': throw notFound('this invitation');
    case 'accepted': throw conflict('this invitation was already accepted');
    case 'withdrawn': throw gone('this invitation was withdrawn');
    case 'expired': throw gone('this invitation has expired: ask for a new one');
    default: return invitation!;
  }
}

/** E-mail when the invitation has one, else the phone number's digits (the response says which). */
export function usernameForInvitee(email: string | null, phone: string | null): { username: string; from: 'email' | 'phone' } | null {
  if (email) return { username: normalizeUsername(email), from: 'email' };
  const digits = phone?.replace(/\D/g, '') ?? '';
  return digits.length >= 6 ? { username: digits, from: 'phone' } : null;
}

/**
 * P8, new person: registers with a password and the terms accepted. Identity chooses the person
 * id, creates the login and announces `invitation.accepted` (newPerson) so that the directory
 * creates the person with that id and the membership.
 */
export async function acceptAsNewPerson(ctx: IdentityContext, token: string, r: Registration) {
  await invitationArrived(ctx, token);
  const peek = await ctx.prisma.$transaction((tx) => openInvitation(tx, token));
  const chosen = usernameForInvitee(peek.email, peek.phone ?? r.phone);
  if (!chosen || !isValidUsername(chosen.username)) throw new DomainError('unprocessable', 'no-username', 'No username possible', 'the invitation has no e-mail and the phone number has too few digits');
  const rejection = checkPassword(r.password, chosen.username);
  if (rejection) throw new DomainError('invalid', 'weak-password', 'Password refused', REJECTION_DETAIL[rejection], { reason: rejection });
  const passwordHash = await hashPassword(r.password);
  const personId = randomUUID();
  const result = await ctx.prisma.$transaction(async (tx) => {
      const invitation = await openInvitation(tx, token);
      if (await tx.login.findUnique({ where: { username: chosen.username }, select: { personId: true } })) {
        throw conflict(`${chosen.username} already has a login: accept with your username and password instead`, { username: chosen.username });
      }
      await tx.login.create({ data: { personId, tenantId: invitation.tenantId, username: chosen.username, passwordHash } });
      await tx.invitationProjection.update({ where: { id: invitation.id }, data: { status: 'accepted', acceptedPersonId: personId, updatedAt: new Date() } });
      await stageEvents(tx, [eventFor('identity', {
        type: 'invitation.accepted', subject: invitation.id, tenantId: invitation.tenantId,
        data: {
          invitationId: invitation.id, personId, accountId: invitation.accountId, roleKey: invitation.roleKey, newPerson: true,
          registration: {
            firstName: r.firstName, lastName: r.lastName, phone: r.phone, email: invitation.email,
            marketingConsent: r.marketingConsent, termsAcceptedAt: new Date().toISOString(),
          },
        },
      }), eventFor('identity', {
        // Every login identity creates is announced (issue 16 item 1): the directory shows it, notifications knows its username.
        type: 'login.granted', subject: personId, tenantId: invitation.tenantId,
        data: {
          personId, username: chosen.username, temporary: false, expiresAt: null, delivery: null, secret: null,
          actor: { kind: 'person', personId, impersonatorId: null },
        },
      })]);
      return { invitationId: invitation.id, personId, accountId: invitation.accountId, roleKey: invitation.roleKey, newPerson: true, username: chosen.username, usernameFrom: chosen.from };
  });
  ctx.relay.nudge();
  ctx.logger.info({ invitationId: result.invitationId, personId }, 'invitation accepted by a new person');
  return result;
}

/** P8, existing person: proves their login; the directory adds them to the invitation's account. */
export async function acceptAsExistingPerson(ctx: IdentityContext, token: string, input: { username: string; password: string; address: string }) {
  const username = normalizeUsername(input.username);
  const keys = throttleKeys(username, input.address);
  await assertNotThrottled(ctx.prisma, keys);
  await invitationArrived(ctx, token);
  const peek = await ctx.prisma.$transaction((tx) => openInvitation(tx, token));
  const login = await ctx.prisma.login.findUnique({ where: { username } });
  if (!login || !(await passwordMatches(login.passwordHash, input.password)) || !login.enabled) {
    await recordFailure(ctx.prisma, keys);
    throw invalidCredentials();
  }
  await recordSuccess(ctx.prisma, keys);
  if (login.tenantId !== peek.tenantId) throw conflict('your login belongs to another organisation: register as a new person instead');
  const result = await ctx.prisma.$transaction(async (tx) => {
      const invitation = await openInvitation(tx, token);
      await tx.invitationProjection.update({ where: { id: invitation.id }, data: { status: 'accepted', acceptedPersonId: login.personId, updatedAt: new Date() } });
      await stageEvents(tx, [eventFor('identity', {
        type: 'invitation.accepted', subject: invitation.id, tenantId: invitation.tenantId,
        data: { invitationId: invitation.id, personId: login.personId, accountId: invitation.accountId, roleKey: invitation.roleKey, newPerson: false, registration: null },
      })]);
      return { invitationId: invitation.id, personId: login.personId, accountId: invitation.accountId, roleKey: invitation.roleKey, newPerson: false };
  });
  ctx.relay.nudge();
  ctx.logger.info({ invitationId: result.invitationId, personId: login.personId }, 'invitation accepted by an existing person');
  return result;
}
