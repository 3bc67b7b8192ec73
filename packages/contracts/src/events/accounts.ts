import { z } from 'zod';
import { actor, id } from './common.js';

/** The account tree (P1), produced by directory. Subject: the account id. */
export const accountKind = z.enum(['root', 'branch', 'client_account', 'area']);
export type AccountKind = z.infer<typeof accountKind>;

export const accountCreated = z.object({
  accountId: id,
  name: z.string().min(1).max(200),
  kind: accountKind,
  /** Null for a tenant's root account. */
  parentId: id.nullable(),
  actor,
});

/** A custom role defined or changed in a tenant (P2). Subject: the role key. */
export const roleDefined = z.object({
  roleKey: z.string().min(1).max(64),
  name: z.string().min(1).max(100),
  permissions: z.array(z.string().max(64)).max(200),
  scope: z.enum(['account', 'assigned_clients', 'own_areas', 'self']),
  rank: z.number().int().min(0).max(100),
  actor,
});

/** A client assigned to a staff member (a salesperson's contacts), or unassigned (null). Subject: the client id. */
export const clientAssigned = z.object({
  clientId: id,
  staffId: id.nullable(),
  actor,
});
