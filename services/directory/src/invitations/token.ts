import { createHash, randomBytes } from 'node:crypto';

/**
 * P8: an invitation's acceptance token: 256 random bits, base64url (it goes into the link). The
 * directory keeps only its SHA-256 (hex); identity checks a presented token against that hash.
 */
export function newAcceptanceToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashToken(token) };
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
