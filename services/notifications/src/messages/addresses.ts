import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import type { Channel } from '../templates/defaults.js';

const email = z.email();

/** A deliverable address for the channel (an e-mail address; a phone number in E.164), or null. */
export function normalizeAddress(channel: Channel, address: string | null | undefined): string | null {
  if (!address) return null;
  const value = address.trim();
  if (channel === 'email') return email.safeParse(value).success && value.length <= 320 ? value : null;
  const phone = parsePhoneNumberFromString(value);
  return phone?.isValid() ? phone.number : null;
}
