import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';

const require = createRequire(import.meta.url);
const commonPasswords = require('fxa-common-password-list') as { test(password: string): boolean };

export const PASSWORD_MIN_LENGTH = 10;
/** Bounds the hashing cost: longer inputs are refused before any hashing. */
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordRejection = 'too_short' | 'too_long' | 'common' | 'contains_username';

/** The password policy; null when acceptable. Pure: the caller turns a rejection into a 400. */
export function checkPassword(password: string, username: string | null): PasswordRejection | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  const lower = password.toLowerCase();
  if (commonPasswords.test(password) || commonPasswords.test(lower)) return 'common';
  const name = username?.normalize('NFKC').toLowerCase();
  if (name && name.length >= 3) {
    const local = name.split('@')[0]!;
    if (lower.normalize('NFKC').includes(name) || (local.length >= 3 && lower.normalize('NFKC').includes(local))) return 'contains_username';
  }
  return null;
}

export const REJECTION_DETAIL: Record<PasswordRejection, string> = {
  too_short: `a password needs at least ${PASSWORD_MIN_LENGTH} characters`,
  too_long: `a password has at most ${PASSWORD_MAX_LENGTH} characters`,
  common: 'this password is on a list of common passwords; choose another',
  contains_username: 'a password may not contain the username',
};

// No look-alikes (0/O, 1/l/I): the password is read from an e-mail and typed by hand.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A temporary password: 16 characters from 56, about 93 bits, in groups of four for typing. */
export function generateTemporaryPassword(): string {
  const chars = Array.from({ length: 16 }, () => ALPHABET[randomInt(ALPHABET.length)]!);
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-');
}
