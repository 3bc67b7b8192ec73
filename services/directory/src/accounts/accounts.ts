import { randomUUID } from 'node:crypto';
import type { Actor } from '@roster/contracts';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { DirectoryTx } from '../db/client.js';
import { recordAudit } from '../audit/audit.js';
import { unknownReference } from '../errors.js';

export type AccountKind = 'root' | 'branch' | 'client_account' | 'area';
export type AccountRow = Awaited<ReturnType<DirectoryTx['account']['findUniqueOrThrow']>>;

export const accountDto = (a: AccountRow) => ({
  id: a.id, kind: a.kind, name: a.name, parentId: a.parentId, ancestors: a.ancestors, createdAt: a.createdAt.toISOString(),
});

/**
 * P1: adds an account under `parentId` (the tenant's root when absent): a chain's branch, an
 * agency's client account, a company's area. Announced with `account.created`.
 */
export async function createAccount(
  tx: DirectoryTx, tenantId: string, input: { id?: string; name: string; kind: AccountKind; parentId: string | null }, actor: Actor,
): Promise<AccountRow> {
  let ancestors: string[] = [];
  if (input.parentId) {
    const parent = await tx.account.findFirst({ where: { id: input.parentId, tenantId } });
    if (!parent) throw unknownReference('account', [input.parentId]);
    ancestors = parent.ancestors;
  }
  const id = input.id ?? randomUUID();
  const account = await tx.account.create({
    data: { id, tenantId, parentId: input.parentId, kind: input.kind, name: input.name, ancestors: [...ancestors, id] },
  });
  await stageEvents(tx, [eventFor('directory', {
    type: 'account.created', subject: id, tenantId,
    data: { accountId: id, name: account.name, kind: input.kind, parentId: input.parentId, actor },
  })]);
  await recordAudit(tx, {
    tenantId, actor, action: 'account.created', subjectId: id, accountIds: ancestors.length ? [input.parentId!, id] : [id],
    detail: { name: account.name, kind: input.kind, parentId: input.parentId },
  });
  return account;
}

export async function rootAccountOf(tx: DirectoryTx, tenantId: string): Promise<string | null> {
  const tenant = await tx.tenant.findUnique({ where: { id: tenantId } });
  return tenant?.rootAccountId ?? null;
}
