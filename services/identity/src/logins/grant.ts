import { eventFor, stageEvents } from '@roster/platform/outbox';
import { badRequest, conflict, DomainError, notFound } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import type { IdentityTx } from '../db/client.js';
import { personAccess, type PersonAccess } from '../people/access.js';
import { hashPassword } from '../passwords/hashing.js';
import { checkPassword, generateTemporaryPassword, REJECTION_DETAIL } from '../passwords/policy.js';
import { freeSuggestions } from '../usernames/availability.js';
import { isValidUsername, normalizeUsername } from '../usernames/normalize.js';
import { authorizeCredentialGrant } from './authorize.js';
import { actorOf, type Caller } from './caller.js';
import { credentialsDelivery, noAddress, sealForNotifications } from './delivery.js';

export interface GrantLoginInput {
  personId: string;
  username: string;
  temporaryPassword?: string | undefined;
  password?: string | undefined;
  sendTo?: string | undefined;
}

export interface GrantedLogin {
  personId: string;
  username: string;
  temporary: boolean;
  expiresAt: string | null;
  /** A permanent password chosen by an admin: allowed, not recommended (L1). */
  notRecommended: boolean;
  delivery: { channel: 'email'; to: string } | null;
}

export const temporaryExpiry = (ctx: IdentityContext, now = Date.now()): Date =>
  new Date(now + ctx.config.temporaryPasswordTtlHours * 3_600_000);

export const personInTenant = async (tx: IdentityTx, tenantId: string, personId: string): Promise<PersonAccess> => {
  const person = await personAccess(tx, tenantId, personId);
  if (!person) throw notFound(`person ${personId}`);
  return person;
};

export const usernameTaken = async (tx: IdentityTx, username: string, person?: PersonAccess) =>
  new DomainError('conflict', 'username-taken', 'Username taken', `the username ${username} is already in use`, {
    suggestions: await freeSuggestions(tx, { firstName: person?.firstName ?? undefined, lastName: person?.lastName ?? undefined }, username),
  });

/**
 * L1, L4: gives a person known from the directory a login. The service generates a one-use
 * temporary password unless the admin chose one; `login.granted` carries the delivery and the
 * password sealed to notifications. Everything is checked before the (slow) hash, then written
 * with the event in one transaction.
 */
export async function grantLogin(ctx: IdentityContext, caller: Caller, input: GrantLoginInput): Promise<GrantedLogin> {
  const db = ctx.prisma;
  const username = normalizeUsername(input.username);
  if (!isValidUsername(username)) throw badRequest('a username has 3 to 128 letters, digits or . _ - @ + and starts with a letter or digit');
  if (input.password !== undefined && input.temporaryPassword !== undefined) throw badRequest('give either password or temporaryPassword, not both');
  const chosen = input.password ?? input.temporaryPassword;
  if (chosen !== undefined) {
    const rejection = checkPassword(chosen, username);
    if (rejection) throw new DomainError('invalid', 'weak-password', 'Password refused', REJECTION_DETAIL[rejection], { reason: rejection });
  }
  const temporary = input.password === undefined;
  const password = chosen ?? generateTemporaryPassword();

  const person = await db.$transaction(async (tx) => {
    const target = await personInTenant(tx, caller.tenantId, input.personId);
    await authorizeCredentialGrant(tx, caller, target, 'grant logins');
    await assertGrantable(tx, target, username);
    return target;
  });
  const delivery = credentialsDelivery(person, 'login', input.sendTo);
  if (!delivery && input.password === undefined && input.temporaryPassword === undefined) throw noAddress();

  const passwordHash = await hashPassword(password);
  const expiresAt = temporary ? temporaryExpiry(ctx) : null;
  const result = await db.$transaction(async (tx) => {
    await assertGrantable(tx, person, username);
    await tx.login.create({
      data: {
        personId: person.personId, tenantId: person.tenantId, username, passwordHash,
        passwordTemporary: temporary, temporaryExpiresAt: expiresAt, passwordChangeRequired: false,
      },
    });
    await stageEvents(tx, [eventFor('identity', {
      type: 'login.granted', subject: person.personId, tenantId: person.tenantId,
      data: {
        personId: person.personId, username, temporary, expiresAt: expiresAt?.toISOString() ?? null, delivery,
        // A permanent password chosen by the admin is not sent (the admin knows it): only the username is.
        secret: delivery && temporary ? sealForNotifications(ctx, password) : null,
        actor: actorOf(caller),
      },
    })]);
    return {
      personId: person.personId, username, temporary, expiresAt: expiresAt?.toISOString() ?? null,
      notRecommended: !temporary, delivery: delivery ? { channel: 'email' as const, to: delivery.to } : null,
    };
  }).catch(async (error: unknown) => {
    if ((error as { code?: string }).code === 'P2002') throw await ctx.prisma.$transaction((tx) => usernameTaken(tx, username));
    throw error;
  });
  ctx.relay.nudge();
  ctx.logger.info({ personId: person.personId, username, temporary, actor: actorOf(caller) }, 'login granted');
  return result;
}

async function assertGrantable(tx: IdentityTx, person: PersonAccess, username: string): Promise<void> {
  if (person.status !== 'active') throw conflict(`person ${person.personId} is ${person.status}: only an active person gets a login`);
  if (await tx.login.findUnique({ where: { personId: person.personId }, select: { personId: true } })) {
    throw conflict(`person ${person.personId} already has a login: generate a new password instead`);
  }
  if (await tx.login.findUnique({ where: { username }, select: { personId: true } })) throw await usernameTaken(tx, username, person);
}
