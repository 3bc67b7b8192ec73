import { openTimeCursor, sealTimeCursor } from '@roster/platform/paging';
import type { SqlTx } from '@roster/platform/db/database';
import { scopeCondition, type ScopedColumns, type VisitScope } from '../visits/scope.js';
import type { RequestStatus } from './request.js';

export interface RequestRow {
  id: string;
  tenant_id: string;
  client_id: string;
  kind: 'visits' | 'change' | 'cancel';
  visit_id: string | null;
  visits: { startsAt: string; endsAt: string; service: string | null }[];
  time_zone: string;
  note: string | null;
  status: RequestStatus;
  submitted_by: string | null;
  submitted_at: Date;
  answered_by: string | null;
  answered_at: Date | null;
  decline_reason: string | null;
  visit_ids: string[];
}

export const REQUEST_COLUMNS = `r.id, r.tenant_id, r.client_id, r.kind, r.visit_id, r.visits, r.time_zone, r.note, r.status, r.submitted_by,
  r.submitted_at, r.answered_by, r.answered_at, r.decline_reason, r.visit_ids`;

/** A request is seen by whoever sees its client's visits (rule 8): the client, their salesperson, supervisor, managers. */
const REQUEST_SCOPE: ScopedColumns = { client: 'r.client_id', sitter: 'NULL' };

export const requestDto = (r: RequestRow) => ({
  id: r.id,
  clientId: r.client_id,
  kind: r.kind,
  visitId: r.visit_id,
  visits: r.visits,
  timeZone: r.time_zone,
  note: r.note,
  status: r.status,
  submittedBy: r.submitted_by,
  submittedAt: r.submitted_at.toISOString(),
  answeredBy: r.answered_by,
  answeredAt: r.answered_at?.toISOString() ?? null,
  declineReason: r.decline_reason,
  visitIds: r.visit_ids,
});
export type RequestDto = ReturnType<typeof requestDto>;

export interface RequestFilters {
  status?: RequestStatus | undefined;
  clientId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** GET /requests: the requests the caller may see, oldest first (the queue a manager works through), keyset-paged. */
export async function listRequests(db: SqlTx, scope: VisitScope, f: RequestFilters): Promise<{ items: RequestDto[]; nextCursor: string | null }> {
  const params: unknown[] = [scope.tenantId];
  const p = (v: unknown) => (params.push(v), `$${params.length}`);
  const where = ['r.tenant_id = $1::uuid', scopeCondition(scope, REQUEST_SCOPE, params)];
  if (f.status) where.push(`r.status = ${p(f.status)}`);
  if (f.clientId) where.push(`r.client_id = ${p(f.clientId)}::uuid`);
  const binding = { tenantId: scope.tenantId, query: `requests:${JSON.stringify([f.status, f.clientId])}` };
  const after = openTimeCursor(f.cursor, binding);
  if (after) where.push(`(r.submitted_at, r.id) > (${p(after.at)}::timestamptz, ${p(after.id)}::uuid)`);
  const rows = await db.$queryRawUnsafe<RequestRow[]>(
    `SELECT ${REQUEST_COLUMNS} FROM visit_request r WHERE ${where.join(' AND ')} ORDER BY r.submitted_at, r.id LIMIT ${p(f.limit + 1)}`,
    ...params,
  );
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return { items: page.map(requestDto), nextCursor: rows.length > f.limit && last ? sealTimeCursor(last.submitted_at, last.id, binding) : null };
}

/** One request the caller may see, or null (another tenant's or out of scope read as none); `lock` takes it FOR UPDATE. */
export async function findVisibleRequest(db: SqlTx, scope: VisitScope, id: string, lock = false): Promise<RequestRow | null> {
  const params: unknown[] = [scope.tenantId, id];
  const [row] = await db.$queryRawUnsafe<RequestRow[]>(
    `SELECT ${REQUEST_COLUMNS} FROM visit_request r WHERE r.tenant_id = $1::uuid AND r.id = $2::uuid AND ${scopeCondition(scope, REQUEST_SCOPE, params)}${lock ? ' FOR UPDATE OF r' : ''}`,
    ...params,
  );
  return row ?? null;
}
