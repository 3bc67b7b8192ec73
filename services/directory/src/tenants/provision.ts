import { randomUUID } from 'node:crypto';
import type { Actor } from '@roster/contracts';
import { conflict } from '@roster/platform/errors';
import type { DirectoryDb } from '../db/client.js';
import { createAccount } from '../accounts/accounts.js';
import { createPersonInTx } from '../people/commands.js';

export interface NewTenant {
  /** Chosen by the operator when given (idempotent provisioning scripts); a fresh UUID otherwise. */
  id?: string | undefined;
  name: string;
  owner: { firstName: string; lastName: string; email: string; phone?: string | undefined };
}

const OPERATOR: Actor = { kind: 'operator', personId: null, impersonatorId: null };

/**
 * P1: provisions a tenant (operator channel): the tenant, its root account (`account.created`,
 * kind `root`) and its owner, a staff member holding `owner` in the root (`user.created`).
 */
export async function provisionTenant(db: DirectoryDb, input: NewTenant): Promise<{ tenantId: string; rootAccountId: string; ownerId: string }> {
  const tenantId = input.id ?? randomUUID();
  const rootAccountId = randomUUID();
  return db.$transaction(async (tx) => {
    const inserted = await tx.$executeRawUnsafe(
      'INSERT INTO tenant (id, name, root_account_id) VALUES ($1::uuid, $2, $3::uuid) ON CONFLICT DO NOTHING', tenantId, input.name, rootAccountId,
    );
    if (inserted !== 1) throw conflict(`tenant ${tenantId} already exists`);
    await createAccount(tx, tenantId, { id: rootAccountId, name: input.name, kind: 'root', parentId: null }, OPERATOR);
    const owner = await createPersonInTx(tx, tenantId, {
      kind: 'staff', firstName: input.owner.firstName, lastName: input.owner.lastName, email: input.owner.email,
      phone: input.owner.phone ?? null, accountId: rootAccountId, roleKey: 'owner',
    }, OPERATOR);
    return { tenantId, rootAccountId, ownerId: owner.id };
  });
}
