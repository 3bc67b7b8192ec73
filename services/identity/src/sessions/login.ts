import { DomainError, unauthorized } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import { resolveRoles, type PersonAccess } from '../people/access.js';
import { passwordMatches } from '../passwords/hashing.js';
import { normalizeUsername } from '../usernames/normalize.js';
import { decideLogin } from './decide.js';
import { lookupLogin, type LoginRow } from './queries.js';
import { recordFailure, recordSuccess, throttleKeys, tooManyAttempts } from './throttle.js';
import { openSession, type SessionTokens } from './tokens.js';

/** One answer for every wrong username or password (L8): nothing tells whether the username exists. */
export const invalidCredentials = () =>
  new DomainError('unauthenticated', 'invalid-credentials', 'Invalid credentials', 'the username or the password is wrong');

async function accessOf(ctx: IdentityContext, login: LoginRow): Promise<PersonAccess | null> {
  if (!login.kind || !login.status) return null;
  const kind = login.kind === 'client' ? 'client' : 'staff';
  const keys = login.memberships.map((m) => m.roleKey);
  if (kind === 'client' && !keys.includes('client')) keys.push('client');
  return {
    personId: login.person_id, tenantId: login.tenant_id, kind, status: login.status,
    firstName: null, lastName: null, email: null, phone: null,
    memberships: login.memberships, roles: await resolveRoles(ctx.prisma, login.tenant_id, keys),
  };
}

export interface VerifiedLogin {
  login: LoginRow;
  person: PersonAccess;
  passwordChangeRequired: boolean;
  /** The temporary password's hash, to be used up by the session it opens (null: not temporary). */
  consumeTemporaryHash: string | null;
}

/**
 * Checks a username and password the way every sign-in does (rule 7, L3, L8): the password is
 * always checked (a dummy hash when the username is unknown), so timing does not reveal whether it
 * exists; failures are throttled per username and address; a switched-off login or an inactive
 * person answers exactly as a wrong password. Used by `POST /sessions` and the hosted sign-in page.
 */
export async function verifyPassword(ctx: IdentityContext, input: { username: string; password: string; address: string }): Promise<VerifiedLogin> {
  const db = ctx.prisma;
  const username = normalizeUsername(input.username);
  const keys = throttleKeys(username, input.address);
  // On the driver, not Prisma: a login's two statements are its only database work (issue 19).
  const { blockedUntil, usernameFailures, login } = await lookupLogin(ctx.db.statements, username, keys.map((k) => k.key));
  if (blockedUntil) throw tooManyAttempts(Math.max(1, Math.ceil((blockedUntil.getTime() - Date.now()) / 1000)));
  const matches = await passwordMatches(login?.password_hash, input.password);
  if (!login || !matches) {
    await recordFailure(db, keys);
    throw invalidCredentials();
  }
  const person = await accessOf(ctx, login);
  const decision = decideLogin({
    enabled: login.enabled, passwordTemporary: login.password_temporary,
    temporaryExpiresAt: login.temporary_expires_at ? Date.parse(login.temporary_expires_at) : null,
    passwordChangeRequired: login.password_change_required, personStatus: person?.status ?? null,
  }, Date.now());
  if (decision.outcome === 'refused' || !person) {
    if (decision.outcome === 'refused' && decision.reason === 'temporary_expired') throw unauthorized('this temporary password has expired: ask for a new one');
    // A switched-off login, or a deactivated or archived person, answers exactly as a wrong
    // password does, and counts as a failure (issue 15): a distinct answer to the right password
    // would confirm it to a guesser, who could use it once the login is back on. Their
    // administrator, who switched it off, is who tells them.
    await recordFailure(db, keys);
    throw invalidCredentials();
  }
  // Only a login that lets the person in forgets their failures: the right password of a
  // switched-off login must not reset the throttle either, or the next answers would tell.
  if (usernameFailures > 0) await recordSuccess(db, keys);
  return { login, person, passwordChangeRequired: decision.passwordChangeRequired, consumeTemporaryHash: decision.consumeTemporary ? login.password_hash : null };
}

/**
 * `POST /sessions` (rule 7, L3, L8): `verifyPassword`, then one statement opening the session. A
 * temporary password is consumed by the login that uses it: the session can only set a new password.
 */
export async function passwordLogin(ctx: IdentityContext, input: { username: string; password: string; address: string }): Promise<SessionTokens> {
  const verified = await verifyPassword(ctx, input);
  // A temporary password is used once: the session exists only if this statement still found its hash.
  const tokens = await openSession(ctx, ctx.db.statements, verified.person, verified.passwordChangeRequired, verified.consumeTemporaryHash);
  if (!tokens) throw invalidCredentials();
  return tokens;
}

/**
 * A hosted sign-in with a temporary password uses it up (as `POST /sessions` does): that sign-in
 * can only set a new one. False when a concurrent sign-in used it first.
 */
export async function useUpTemporaryPassword(ctx: IdentityContext, verified: VerifiedLogin): Promise<boolean> {
  const used = await ctx.prisma.$executeRawUnsafe(
    'UPDATE login SET password_hash = NULL, updated_at = now() WHERE person_id = $1::uuid AND password_hash = $2', verified.login.person_id, verified.login.password_hash,
  );
  return used === 1;
}
