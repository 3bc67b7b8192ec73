import { z } from 'zod';
import { actor, delivery, id, isoTime, sealedSecret } from './common.js';

/** Logins, passwords and sessions, produced by identity. Subject: the person id. */

/** A username: a name of up to 128 characters, or an e-mail address (up to 320) an invitee signs in with. */
const username = z.string().min(1).max(320);

export const loginGranted = z.object({
  personId: id,
  username,
  /** True when the password is temporary (L3): usable once, then it must be changed. */
  temporary: z.boolean(),
  expiresAt: isoTime.nullable(),
  /** The credentials message to send; null when no message is wanted. */
  delivery: delivery.nullable(),
  /** The password, sealed to notifications; null for a permanent password chosen by the admin. */
  secret: sealedSecret.nullable(),
  actor,
});

export const loginEnabled = z.object({ personId: id, username: z.string().max(320), actor });
export const loginDisabled = z.object({ personId: id, username: z.string().max(320), actor });

export const passwordReset = z.object({
  personId: id,
  /** Version 2: the login's username, so that a message about it never depends on another projection. Absent in version 1. */
  username: username.optional(),
  /** `new_password` (L5, a fresh temporary password to deliver) or `archived` (P6, made unusable). */
  reason: z.enum(['new_password', 'archived', 'changed']),
  temporary: z.boolean(),
  expiresAt: isoTime.nullable(),
  delivery: delivery.nullable(),
  secret: sealedSecret.nullable(),
  actor,
});

/** Every token of `personId` issued before `notBefore` must be refused by every service (B2). */
export const sessionsRevoked = z.object({
  personId: id,
  notBefore: isoTime,
  reason: z.enum([
    'logout',
    'login_disabled',
    'deactivated',
    'archived',
    'password_changed',
    'refresh_token_reused',
    'access_changed',
  ]),
  sessionCount: z.number().int().nonnegative(),
  /**
   * Version 2: one session only (a logout, an ended impersonation): only the tokens of this session
   * (their `sid`) issued before notBefore are refused; the person's other sessions keep working.
   * Absent: every token of the person.
   */
  sessionId: id.optional(),
});

/**
 * L7, B5: an owner or admin began acting as `personId` (their reason is kept); the directory puts
 * it on the audit trail of both people. Subject: the impersonated person.
 */
export const impersonationStarted = z.object({
  impersonationId: id,
  personId: id,
  impersonatorId: id,
  reason: z.string().min(1).max(500),
  expiresAt: isoTime,
  actor,
});

/** The impersonation ended: by its own logout, by the impersonator's logout, or at its expiry. */
export const impersonationEnded = z.object({
  impersonationId: id,
  personId: id,
  impersonatorId: id,
  endedBy: z.enum(['logout', 'impersonator_logout', 'expiry']),
  endedAt: isoTime,
  actor,
});
