import { z } from 'zod';
import { actor, id, isoTime } from './common.js';

/** Memberships (a role per account), produced by directory. Subject: the person id. */
export const accessGranted = z.object({
  personId: id,
  accountId: id,
  roleKey: z.string().max(64),
  /**
   * How many memberships the same operation (the correlation id) grants this person, this one
   * included (P4). A consumer that tells the person can wait for all of them and send one notice;
   * absent in events from before it existed: treat as 1.
   */
  grantsToPerson: z.number().int().min(1).max(10_000).optional(),
  actor,
});

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
