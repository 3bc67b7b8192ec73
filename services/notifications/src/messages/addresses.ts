import { isEmailAddress, phoneNumberE164 } from '@roster/contracts';
import type { Channel } from '../templates/defaults.js';

/** A deliverable address for the channel (an e-mail address; a phone number in E.164), or null. */
export function normalizeAddress(channel: Channel, address: string | null | undefined): string | null {
  if (!address) return null;
  const value = address.trim();
  // The rules every entry point applies (rule 8): what was accepted there is deliverable here.
  return channel === 'email' ? (isEmailAddress(value) ? value : null) : phoneNumberE164(value);
}
