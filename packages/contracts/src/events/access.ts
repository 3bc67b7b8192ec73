import { z } from 'zod';
import { actor, id, isoTime } from './common.js';

/** Memberships (a role per account), produced by directory. Subject: the person id. */
export const accessGranted = z.object({ personId: id, accountId: id, roleKey: z.string().max(64), actor });

export const accessRevoked = z.object({
  personId: id,
  accountId: id,
  roleKey: z.string().max(64),
  /** Tokens carrying this access issued before this instant stop working. */
  notBefore: isoTime,
  actor,
});

export const roleChanged = z.object({
  personId: id,
  accountId: id,
  fromRoleKey: z.string().max(64),
  toRoleKey: z.string().max(64),
  notBefore: isoTime,
  actor,
});
