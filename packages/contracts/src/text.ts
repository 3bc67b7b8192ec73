import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';

/**
 * The text rule every service applies to what it is given (issue 15, rule 8): a string Postgres
 * cannot store as text or jsonb — a NUL character, or half of a UTF-16 surrogate pair — is refused
 * at the door with a 400 naming where it was, instead of failing at the database with a 500.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored, or null when it can. */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(text)) return 'contains half of a UTF-16 surrogate pair';
  return null;
}

/** How deep a JSON document may nest (objects and arrays), in every request. */
export const MAX_JSON_DEPTH = 32;

/**
 * The first problem in a parsed JSON value (keys and strings at any depth, nesting deeper than
 * MAX_JSON_DEPTH), with its path (`owner.email`, `items.3.name`), or null. Iterative: a hostile
 * document cannot overflow the stack.
 */
export function unstorableJson(value: unknown, root = 'body'): { path: string; problem: string } | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = unstorableText(v);
      if (problem) return { path, problem };
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) return { path, problem: `nests deeper than ${MAX_JSON_DEPTH} levels` };
      for (const [key, child] of Object.entries(v)) {
        const keyProblem = unstorableText(key);
        if (keyProblem) return { path: `${path}.${key}`, problem: `has a key that ${keyProblem}` };
        stack.push({ value: child, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return null;
}

/** A UUID as every service stores ids (36 characters, hex in 8-4-4-4-12 groups). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN.test(value);

/**
 * An e-mail address as every service takes it (rule 8): the directory for people, invitations and
 * tenants' owners, identity for usernames made from an invitee's address. What one accepts, the
 * others accept.
 */
export const emailAddress = z.email().max(320);
export const isEmailAddress = (value: string): boolean => emailAddress.safeParse(value).success;

/** How every message about a phone number shows a good one. */
export const PHONE_EXAMPLE = '+44 20 7946 0958';

/**
 * A phone number as every service takes it (issue 16 item 8, rule 8): in international form and
 * valid for its country by libphonenumber's metadata, the same library notifications texts with,
 * so that nothing the directory or identity accepts is refused later as undeliverable. Returns
 * the E.164 form, or null.
 */
export function phoneNumberE164(value: string): string | null {
  if (value.length > 32) return null;
  const parsed = parsePhoneNumberFromString(value.trim());
  return parsed?.isValid() ? parsed.number : null;
}
export const isPhoneNumber = (value: string): boolean => phoneNumberE164(value) !== null;
export const phoneNumber = z.string().max(32).refine(isPhoneNumber, {
  message: `not a phone number anyone can reach: give it in international form, such as ${PHONE_EXAMPLE}`,
});
