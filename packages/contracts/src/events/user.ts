import { z } from 'zod';
import { actor, id, personKind } from './common.js';

/** Person lifecycle, produced by directory. Subject: the person id; subjectversion: the person's version. */
const profile = {
  personId: id,
  kind: personKind,
  firstName: z.string().min(1).max(100),
  lastName: z.string().min(1).max(100),
  email: z.string().max(320).nullable(),
  phone: z.string().max(32).nullable(),
  /** Opted in to the daily reminder e-mail (N2); absent means no. */
  dailyReminder: z.boolean().optional(),
};

export const userCreated = z.object({
  ...profile,
  /** The account the person was created in and the role they hold there (null for clients). */
  accountId: id,
  roleKey: z.string().max(64).nullable(),
  actor,
});

export const userUpdated = z.object({ ...profile, actor });

const lifecycleChange = {
  personId: id,
  kind: personKind,
  /** Roles the person held when it happened: consumers tell a manager from a sitter by them. */
  roleKeys: z.array(z.string().max(64)),
  reason: z.string().max(500).nullable(),
  actor,
};

export const userDeactivated = z.object(lifecycleChange);
export const userReactivated = z.object(lifecycleChange);
export const userArchived = z.object(lifecycleChange);
export const userRestored = z.object(lifecycleChange);
