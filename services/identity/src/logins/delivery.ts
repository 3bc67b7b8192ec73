import type { Delivery, SealedSecret } from '@roster/contracts';
import { parseSealingPublicKey, seal, type SealingPublicKey } from '@roster/platform/crypto/sealing';
import { DomainError } from '@roster/platform/errors';
import type { IdentityContext } from '../context.js';
import type { PersonAccess } from '../people/access.js';

const keys = new WeakMap<IdentityContext, SealingPublicKey>();

/** Seals a password to notifications' key (rule 5): the event carries ciphertext only. */
export function sealForNotifications(ctx: IdentityContext, plaintext: string): SealedSecret {
  let key = keys.get(ctx);
  if (!key) {
    if (!ctx.config.sealingPublicKey) {
      throw new DomainError('unavailable', 'sealing-unavailable', 'Credential delivery unavailable', 'identity has no SEALING_PUBLIC_KEY: it cannot send passwords');
    }
    key = parseSealingPublicKey(ctx.config.sealingPublicKey);
    keys.set(ctx, key);
  }
  return seal(key, plaintext);
}

/** L4: the credentials e-mail, to `sendTo` or the address on file; null when there is neither. */
export function credentialsDelivery(person: PersonAccess, template: 'login' | 'new_password', sendTo: string | undefined): Delivery | null {
  const to = sendTo ?? person.email;
  if (!to) return null;
  const key = template === 'new_password' ? 'new_password' : person.kind === 'client' ? 'client_login_credentials' : 'staff_login_credentials';
  return { channel: 'email', template: key, to };
}

export const noAddress = () =>
  new DomainError('unprocessable', 'no-delivery-address', 'No address to send the password to', 'the person has no e-mail on file: give sendTo');
