import { z } from 'zod';

export const id = z.string().min(1).max(64);
export const personKind = z.enum(['client', 'staff']);
export type PersonKind = z.infer<typeof personKind>;

/** Who caused a change: a person (possibly impersonated), the operator, the system (cascade effects) or SCIM. */
export const actor = z.object({
  kind: z.enum(['person', 'operator', 'system', 'scim']),
  personId: id.nullable(),
  /** Set when an admin acts as `personId` through impersonation (L7, B5): the real human. */
  impersonatorId: id.nullable(),
});
export type Actor = z.infer<typeof actor>;

/**
 * A secret (temporary password, invitation token) sealed to the notifications service's public
 * key (rule 5). Only notifications can open it; logs, spans and other consumers see ciphertext.
 */
export const sealedSecret = z.object({
  /** Id of the notifications key the secret was sealed to. */
  kid: z.string().min(1).max(128),
  /** Sealing scheme, e.g. `ECDH-ES+A256GCM` or `RSA-OAEP-256+A256GCM`. */
  alg: z.string().min(1).max(64),
  /** Base64url of the sealed payload. */
  ciphertext: z.string().min(1).max(8192),
});
export type SealedSecret = z.infer<typeof sealedSecret>;

/** Where a message carrying a secret must go, decided by the producer (L4). */
export const delivery = z.object({
  channel: z.enum(['email', 'sms']),
  template: z.string().min(1).max(64),
  /** The address on file or the one given at grant time (`sendTo`). */
  to: z.string().min(1).max(320),
});
export type Delivery = z.infer<typeof delivery>;

export const isoTime = z.iso.datetime({ offset: true });
