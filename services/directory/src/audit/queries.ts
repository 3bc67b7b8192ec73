import type { SqlTx } from '@roster/platform/db/database';
import { forbidden } from '@roster/platform/errors';
import { subtreeRoots, type Caller } from '../access/caller.js';
import { openCursor, sealCursor } from '@roster/platform/paging';

export interface AuditQuery {
  accountId?: string | undefined;
  subjectId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

interface AuditRow {
  seq: bigint; id: string; at: Date; actor_kind: string; actor_person_id: string | null; impersonator_id: string | null;
  action: string; subject_id: string | null; account_ids: string[]; operation_id: string | null; detail: Record<string, unknown>;
}

/**
 * P9: the audit trail, newest first, of an account (and the accounts below it) or of a subject.
 * Owners and admins read the whole tenant's; others the entries of accounts within their reach.
 */
export async function readAudit(tx: SqlTx, caller: Caller, query: AuditQuery) {
  const fingerprint = `audit:${query.accountId ?? ''}:${query.subjectId ?? ''}`;
  const after = openCursor(query.cursor, { tenantId: caller.tenantId, query: fingerprint }, ['string']);
  const params: unknown[] = [caller.tenantId];
  const add = (v: unknown) => (params.push(v), `$${params.length}`);
  const where = ['e.tenant_id = $1::uuid'];
  if (query.accountId) where.push(`e.account_ids && ARRAY(SELECT id FROM account WHERE tenant_id = $1::uuid AND ${add(query.accountId)}::uuid = ANY(ancestors))`);
  if (query.subjectId) where.push(`e.subject_id = ${add(query.subjectId)}`);
  if (!caller.tenantWide) {
    const roots = subtreeRoots(caller, 'audit.read');
    if (roots.length === 0) throw forbidden('your roles give audit.read in no account');
    where.push(`e.account_ids && ARRAY(SELECT id FROM account WHERE tenant_id = $1::uuid AND ancestors && ${add(roots)}::uuid[])`);
  }
  if (after) where.push(`e.seq < ${add(after[0])}::bigint`);
  const rows = await tx.$queryRawUnsafe<AuditRow[]>(
    `SELECT e.seq, e.id::text, e.at, e.actor_kind, e.actor_person_id, e.impersonator_id, e.action, e.subject_id,
            e.account_ids::text[] AS account_ids, e.operation_id::text, e.detail
     FROM audit_entry e WHERE ${where.join(' AND ')} ORDER BY e.seq DESC LIMIT ${query.limit + 1}`,
    ...params,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id, at: new Date(r.at).toISOString(), action: r.action, subjectId: r.subject_id, accountIds: r.account_ids,
      actor: { kind: r.actor_kind, personId: r.actor_person_id, impersonatorId: r.impersonator_id },
      operationId: r.operation_id, detail: r.detail,
    })),
    nextCursor: rows.length > query.limit && last ? sealCursor([String(last.seq)], { tenantId: caller.tenantId, query: fingerprint }) : null,
  };
}
