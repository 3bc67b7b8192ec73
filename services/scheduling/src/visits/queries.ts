import { openTimeCursor, sealTimeCursor } from '@roster/platform/paging';
import type { SqlTx } from '@roster/platform/db/database';
import { scopeCondition, VISIT_SCOPE, type VisitScope } from './scope.js';

export interface VisitRow {
  id: string;
  client_id: string;
  sitter_id: string | null;
  starts_at: Date;
  ends_at: Date;
  status: string;
  service: string | null;
  time_zone: string;
  schedule_id: string | null;
  completed_at: Date | null;
  completed_by: string | null;
  created_at: Date;
}

export interface SurchargeRow {
  id: string;
  visit_id: string;
  amount_cents: number;
  reason: string;
  created_by: string | null;
  created_at: Date;
}

/** A visit with its assignment (`a`, absent when it needs a sitter). */
export const VISIT_FROM = 'visit v LEFT JOIN visit_assignment a ON a.visit_id = v.id';
export const VISIT_COLUMNS = `v.id, v.client_id, a.sitter_id, v.starts_at, v.ends_at, v.status, v.service, v.time_zone, v.schedule_id, v.completed_at, v.completed_by, v.created_at`;

export const surchargeDto = (s: SurchargeRow) => ({
  id: s.id, visitId: s.visit_id, amount: s.amount_cents / 100, reason: s.reason, createdBy: s.created_by, createdAt: s.created_at.toISOString(),
});

export const visitDto = (v: VisitRow, surcharges: SurchargeRow[] = []) => ({
  id: v.id,
  clientId: v.client_id,
  sitterId: v.sitter_id,
  startsAt: v.starts_at.toISOString(),
  endsAt: v.ends_at.toISOString(),
  status: v.status,
  service: v.service,
  timeZone: v.time_zone,
  scheduleId: v.schedule_id,
  completedAt: v.completed_at?.toISOString() ?? null,
  completedBy: v.completed_by,
  surcharges: surcharges.map(surchargeDto),
  createdAt: v.created_at.toISOString(),
});

export interface VisitFilters {
  sitterId?: string | undefined;
  clientId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  status?: 'scheduled' | 'completed' | undefined;
  unassigned?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}


/** GET /visits: the caller's visible visits, in start order, keyset-paged. */
export async function listVisits(db: SqlTx, scope: VisitScope, f: VisitFilters): Promise<{ items: ReturnType<typeof visitDto>[]; nextCursor: string | null }> {
  const params: unknown[] = [scope.tenantId];
  const where = ['v.tenant_id = $1::uuid', scopeCondition(scope, VISIT_SCOPE, params)];
  const p = (v: unknown) => (params.push(v), `$${params.length}`);
  if (f.sitterId) where.push(`a.sitter_id = ${p(f.sitterId)}::uuid`);
  if (f.clientId) where.push(`v.client_id = ${p(f.clientId)}::uuid`);
  if (f.from) where.push(`v.starts_at >= ${p(f.from)}::timestamptz`);
  if (f.to) where.push(`v.starts_at < ${p(f.to)}::timestamptz`);
  if (f.status) where.push(`v.status = ${p(f.status)}`);
  if (f.unassigned) where.push('a.visit_id IS NULL');
  const binding = { tenantId: scope.tenantId, query: `visits:${JSON.stringify([f.sitterId, f.clientId, f.from, f.to, f.status, f.unassigned])}` };
  const after = openTimeCursor(f.cursor, binding);
  if (after) where.push(`(v.starts_at, v.id) > (${p(after.at)}::timestamptz, ${p(after.id)}::uuid)`);
  const rows = await db.$queryRawUnsafe<VisitRow[]>(
    `SELECT ${VISIT_COLUMNS} FROM ${VISIT_FROM} WHERE ${where.join(' AND ')} ORDER BY v.starts_at, v.id LIMIT ${p(f.limit + 1)}`,
    ...params,
  );
  const page = rows.slice(0, f.limit);
  const surcharges = await surchargesOf(db, scope.tenantId, page.map((v) => v.id));
  return {
    items: page.map((v) => visitDto(v, surcharges.get(v.id))),
    nextCursor: rows.length > f.limit ? sealTimeCursor(page[page.length - 1]!.starts_at, page[page.length - 1]!.id, binding) : null,
  };
}

/** One visit the caller may see, or null (another tenant's, out of scope, or none: all read as 404). */
export async function findVisibleVisit(db: SqlTx, scope: VisitScope, id: string, lock = false): Promise<VisitRow | null> {
  const params: unknown[] = [scope.tenantId, id];
  const [row] = await db.$queryRawUnsafe<VisitRow[]>(
    `SELECT ${VISIT_COLUMNS} FROM ${VISIT_FROM} WHERE v.tenant_id = $1::uuid AND v.id = $2::uuid AND ${scopeCondition(scope, VISIT_SCOPE, params)}${lock ? ' FOR UPDATE OF v' : ''}`,
    ...params,
  );
  return row ?? null;
}

export async function surchargesOf(db: SqlTx, tenantId: string, visitIds: string[]): Promise<Map<string, SurchargeRow[]>> {
  const byVisit = new Map<string, SurchargeRow[]>();
  if (visitIds.length === 0) return byVisit;
  const rows = await db.$queryRawUnsafe<SurchargeRow[]>(
    `SELECT id, visit_id, amount_cents, reason, created_by, created_at FROM surcharge
     WHERE tenant_id = $1::uuid AND visit_id = ANY($2::uuid[]) ORDER BY created_at, id`,
    tenantId, visitIds,
  );
  for (const s of rows) byVisit.set(s.visit_id, [...(byVisit.get(s.visit_id) ?? []), s]);
  return byVisit;
}
