import { z } from 'zod';
import { actor, id, isoTime, sealedSecret } from './common.js';

/** Invitations (P8). Created and withdrawn by directory, accepted through identity. Subject: invitation id. */
export const invitationCreated = z.object({
  invitationId: id,
  accountId: id,
  roleKey: z.string().max(64),
  invitee: z.object({
    firstName: z.string().max(100),
    lastName: z.string().max(100),
    email: z.string().max(320).nullable(),
    phone: z.string().max(32).nullable(),
  }),
  channel: z.enum(['email', 'sms']),
  /** The acceptance token, sealed to notifications (it goes into the link). */
  token: sealedSecret,
  /** SHA-256 (hex) of the acceptance token: identity checks a presented token against it. */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  expiresAt: isoTime,
  /** True when this is a resend of an existing invitation. */
  resend: z.boolean(),
  actor,
});

export const invitationAccepted = z.object({
  invitationId: id,
  personId: id,
  accountId: id,
  roleKey: z.string().max(64),
  /** True when a new person registered; false when an existing person joined the account. */
  newPerson: z.boolean(),
  /** Profile of a newly registered person (null when an existing person joined). */
  registration: z
    .object({
      firstName: z.string().max(100),
      lastName: z.string().max(100),
      // Not tightened to the shared rules (the evolution rule): the directory applies them on receipt.
      phone: z.string().max(32).nullable(),
      email: z.string().max(320).nullable(),
      marketingConsent: z.boolean(),
      termsAcceptedAt: isoTime,
    })
    .nullable(),
});

export const invitationWithdrawn = z.object({ invitationId: id, actor });

/** The role or account of a pending invitation was edited before acceptance (P8). */
export const invitationUpdated = z.object({ invitationId: id, accountId: id, roleKey: z.string().max(64), expiresAt: isoTime, actor });
