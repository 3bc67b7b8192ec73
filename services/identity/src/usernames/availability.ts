import type { IdentityTx } from '../db/client.js';
import { isValidUsername, normalizeUsername, usernameCandidates } from './normalize.js';

/** Up to `limit` candidate usernames that no login holds (one query), best first (L2). */
export async function freeSuggestions(
  tx: IdentityTx, names: { firstName?: string | undefined; lastName?: string | undefined }, wanted?: string, limit = 5,
): Promise<string[]> {
  let candidates = usernameCandidates(names.firstName, names.lastName, wanted);
  if (candidates.length === 0 && wanted) {
    const stem = normalizeUsername(wanted).replace(/[^\p{L}\p{N}._@+-]/gu, '');
    candidates = [2, 3, 7, 12, 21, 42].map((n) => `${stem}${n}`).filter(isValidUsername);
  }
  if (wanted) candidates = candidates.filter((c) => c !== normalizeUsername(wanted));
  if (candidates.length === 0) return [];
  const taken = await tx.login.findMany({ where: { username: { in: candidates } }, select: { username: true } });
  const used = new Set(taken.map((t) => t.username));
  return candidates.filter((c) => !used.has(c)).slice(0, limit);
}

export async function usernameAvailability(
  tx: IdentityTx, query: { username?: string | undefined; firstName?: string | undefined; lastName?: string | undefined },
): Promise<{ username: string | null; available: boolean; valid: boolean; suggestions: string[] }> {
  const username = query.username ? normalizeUsername(query.username) : null;
  const valid = username !== null && isValidUsername(username);
  const available = valid && !(await tx.login.findUnique({ where: { username: username! }, select: { personId: true } }));
  const suggestions = await freeSuggestions(tx, { firstName: query.firstName, lastName: query.lastName }, query.username);
  return { username, available, valid, suggestions };
}
