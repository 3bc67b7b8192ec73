import { isEmailAddress } from '@roster/contracts';

/**
 * Usernames (L2) are unique across all tenants, compared case-insensitively after Unicode
 * normalization: NFKC folds compatibility forms (full-width letters, ligatures), then lower case.
 * Stored normalized, under a unique index.
 */
export const normalizeUsername = (raw: string): string => raw.normalize('NFKC').trim().toLowerCase();

/** Letters and digits of any script, and `. _ - @ +`; 3 to 128 characters once normalized. */
export const USERNAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._@+-]{2,127}$/u;

/**
 * A username is such a name, or any e-mail address the directory accepts (issue 15, rule 8): an
 * invitee signs in with the address they were invited at, `o'brien@…` or 146 characters long
 * included, so what an invitation accepts, accepting it accepts.
 */
export const isValidUsername = (normalized: string): boolean => USERNAME_PATTERN.test(normalized) || isEmailAddress(normalized);

/** Names reduced to what a username may hold: `Zoë O'Brien` → `zoë`, `obrien`. */
const part = (name: string | undefined): string =>
  normalizeUsername(name ?? '').replace(/[^\p{L}\p{N}]+/gu, '');

/** Candidate usernames built from a person's names, best first (the free ones are offered). */
export function usernameCandidates(firstName?: string, lastName?: string, wanted?: string): string[] {
  const f = part(firstName);
  const l = part(lastName);
  const base: string[] = [];
  if (f && l) base.push(`${f}.${l}`, `${f}${l}`, `${f[0]}${l}`, `${f}.${l[0]}`, `${l}.${f}`, `${f}_${l}`);
  else if (f || l) base.push(f || l);
  const w = wanted ? normalizeUsername(wanted) : '';
  const stems = [...new Set([...(w && isValidUsername(w) ? [w] : []), ...base].filter((s) => s.length >= 3))];
  const numbered = stems.slice(0, 3).flatMap((s) => [2, 3, 7, 12, 21].map((n) => `${s}${n}`));
  return [...new Set([...base, ...numbered])].filter(isValidUsername);
}
