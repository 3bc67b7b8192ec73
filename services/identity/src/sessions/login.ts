import { HttpProblem, unauthorized } from '@roster/platform/http/problem';
import type { IdentityContext } from '../service.js';
import { personAccess } from '../people/access.js';
import { passwordMatches } from '../passwords/hashing.js';
import { normalizeUsername } from '../usernames/normalize.js';
import { assertNotThrottled, recordFailure, recordSuccess, throttleKeys } from './throttle.js';
import { openSession, type SessionTokens } from './tokens.js';

/** One answer for every wrong username or password (L8): nothing tells whether the username exists. */
export const invalidCredentials = () =>
  new HttpProblem(401, 'invalid-credentials', 'Invalid credentials', 'the username or the password is wrong');

const loginOff = () => new HttpProblem(403, 'login-disabled', 'Login switched off', 'this login is switched off; ask an administrator');

/**
 * `POST /sessions` (rule 7, L3, L8). The password is always checked (a dummy hash when the
 * username is unknown), so timing does not reveal whether it exists. A temporary password is
 * consumed by the login that uses it: the session can only set a new password.
 */
export async function passwordLogin(ctx: IdentityContext, input: { username: string; password: string; address: string }): Promise<SessionTokens> {
  const db = ctx.prisma;
  const username = normalizeUsername(input.username);
  const keys = throttleKeys(username, input.address);
  await assertNotThrottled(db, keys);
  const login = await db.login.findUnique({ where: { username } });
  const matches = await passwordMatches(login?.passwordHash, input.password);
  if (!login || !matches) {
    await recordFailure(db, keys);
    throw invalidCredentials();
  }
  await recordSuccess(db, username);
  const tokens = await db.$transaction(async (tx) => {
    const person = await personAccess(tx, login.tenantId, login.personId);
    if (!login.enabled || !person || person.status !== 'active') return loginOff();
    let passwordChangeRequired = login.passwordChangeRequired;
    if (login.passwordTemporary) {
      if (login.temporaryExpiresAt && login.temporaryExpiresAt.getTime() <= Date.now()) {
        return unauthorized('this temporary password has expired: ask for a new one');
      }
      // Used once: only the login that holds the row with this exact hash consumes it.
      const consumed = await tx.login.updateMany({
        where: { personId: login.personId, passwordHash: login.passwordHash, passwordTemporary: true },
        data: { passwordHash: null, passwordTemporary: false, temporaryExpiresAt: null, passwordChangeRequired: true, updatedAt: new Date() },
      });
      if (consumed.count !== 1) return invalidCredentials();
      passwordChangeRequired = true;
    }
    return openSession(ctx, tx, person, passwordChangeRequired);
  });
  if (tokens instanceof HttpProblem) throw tokens;
  return tokens;
}
