import { randomUUID } from 'node:crypto';
import { requireKnownTimeZone } from '../db/time-zones.js';
import type { Principal } from '@roster/platform/auth/claims';
import { hasPermission } from '@roster/platform/auth/middleware';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import { notFound } from '@roster/platform/errors';
import { declineRequestsAboutGoneVisits } from '../requests/system-answers.js';
import { assignableDefaultSitter, requireActiveClient, requireAssignableSitter } from '../people/eligibility.js';
import { findVisibleVisit, surchargesOf, VISIT_COLUMNS, VISIT_FROM, visitDto, type SurchargeRow, type VisitRow } from './queries.js';
import { visitScopeOf, type VisitScope } from './scope.js';
import { decideVisit, type VisitActor, type VisitState } from './visit.js';

export interface NewVisit {
  clientId: string;
  /** Omitted: the client's default sitter when they can still be assigned; null: unassigned. */
  sitterId?: string | null | undefined;
  startsAt: Date;
  endsAt: Date;
  service?: string | undefined;
  timeZone?: string | undefined;
}

/** POST /visits (S1): a visit for an active client, with an assignable sitter, the default sitter, or none. */
export async function createVisit(db: SqlClient, me: Principal, v: NewVisit) {
  return db.$transaction(async (tx) => {
    // Sitter before client, the order the sitter cascade locks them in (no deadlock with it).
    const sitterId = v.sitterId === undefined ? await assignableDefaultSitter(tx, me.tenantId, v.clientId) : v.sitterId;
    if (sitterId && v.sitterId !== undefined) await requireAssignableSitter(tx, me.tenantId, sitterId);
    await requireActiveClient(tx, me.tenantId, v.clientId);
    const timeZone = await requireKnownTimeZone(tx, v.timeZone ?? 'UTC');
    const id = await insertVisit(tx, me.tenantId, { ...v, timeZone }, sitterId);
    return visitDto(await readVisit(tx, me.tenantId, id));
  });
}

/**
 * Writes one visit (and its assignment) in the caller's transaction, whose checks were made
 * before: the client is active and the sitter assignable (both read FOR SHARE), the zone known.
 */
export async function insertVisit(tx: SqlTx, tenantId: string, v: NewVisit & { timeZone: string }, sitterId: string | null): Promise<string> {
  const id = randomUUID();
  await tx.$executeRawUnsafe(
    `INSERT INTO visit (id, tenant_id, client_id, starts_at, ends_at, service, time_zone)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamptz, $5::timestamptz, $6, $7)`,
    id, tenantId, v.clientId, v.startsAt, v.endsAt, v.service ?? null, v.timeZone,
  );
  if (sitterId) await setAssignment(tx, tenantId, id, sitterId);
  return id;
}

/** Gives the visit to `sitterId`, or takes it from whoever had it (null). The assignment mirrors the visit's start. */
export async function setAssignment(tx: SqlTx, tenantId: string, visitId: string, sitterId: string | null): Promise<void> {
  if (sitterId === null) {
    await tx.$executeRawUnsafe('DELETE FROM visit_assignment WHERE visit_id = $1::uuid AND tenant_id = $2::uuid', visitId, tenantId);
    return;
  }
  await tx.$executeRawUnsafe(
    `INSERT INTO visit_assignment (visit_id, tenant_id, sitter_id, starts_at, completed)
     SELECT id, tenant_id, $3::uuid, starts_at, status = 'completed' FROM visit WHERE id = $1::uuid AND tenant_id = $2::uuid
     ON CONFLICT (visit_id) DO UPDATE SET sitter_id = EXCLUDED.sitter_id`,
    visitId, tenantId, sitterId,
  );
}

async function readVisit(tx: SqlTx, tenantId: string, id: string): Promise<VisitRow> {
  const [row] = await tx.$queryRawUnsafe<VisitRow[]>(`SELECT ${VISIT_COLUMNS} FROM ${VISIT_FROM} WHERE v.id = $1::uuid AND v.tenant_id = $2::uuid`, id, tenantId);
  if (!row) throw notFound(`visit ${id}`);
  return row;
}

const stateOf = (v: VisitRow): VisitState => ({ status: v.status === 'completed' ? 'completed' : 'scheduled', sitterId: v.sitter_id, startsAt: new Date(v.starts_at) });
const actorOf = (me: Principal): VisitActor => ({
  personId: me.personId, manages: hasPermission(me, 'visits.manage'), completesOwn: hasPermission(me, 'visits.complete_own'),
});

async function visitForUpdate(tx: SqlTx, scope: VisitScope, id: string): Promise<VisitRow> {
  const visit = await findVisibleVisit(tx, scope, id, true);
  if (!visit) throw notFound(`visit ${id}`);
  return visit;
}

/** PATCH /visits/{id} (S2): managers assign, reassign or unassign (null) a visit that is not completed. */
export async function assignVisit(db: SqlClient, me: Principal, id: string, sitterId: string | null) {
  return db.$transaction(async (tx) => {
    const visit = await visitForUpdate(tx, await visitScopeOf(tx, me), id);
    const decision = decideVisit(stateOf(visit), { type: 'assign', sitterId }, actorOf(me));
    if (decision.type === 'assigned') await requireAssignableSitter(tx, me.tenantId, decision.sitterId);
    await setAssignment(tx, me.tenantId, id, decision.type === 'assigned' ? decision.sitterId : null);
    return visitDto(await readVisit(tx, me.tenantId, id), (await surchargesOf(tx, me.tenantId, [id])).get(id));
  });
}

/** POST /visits/{id}/complete (S2): a sitter their own visits (visits.complete_own), a manager any in scope (visits.manage). */
export async function completeVisit(db: SqlClient, me: Principal, id: string, early = false) {
  return db.$transaction(async (tx) => {
    const visit = await visitForUpdate(tx, await visitScopeOf(tx, me), id);
    decideVisit(stateOf(visit), { type: 'complete', at: new Date(), early }, actorOf(me));
    await tx.$executeRawUnsafe(
      `UPDATE visit SET status = 'completed', completed_at = now(), completed_by = $3::uuid WHERE id = $1::uuid AND tenant_id = $2::uuid`,
      id, me.tenantId, me.personId,
    );
    // A completed visit keeps its sitter whatever happens to them later.
    await tx.$executeRawUnsafe('UPDATE visit_assignment SET completed = true WHERE visit_id = $1::uuid AND tenant_id = $2::uuid', id, me.tenantId);
    // S3: a change or cancellation still pending for it can no longer be granted; the system declines it.
    await declineRequestsAboutGoneVisits(tx, me.tenantId);
    return visitDto(await readVisit(tx, me.tenantId, id), (await surchargesOf(tx, me.tenantId, [id])).get(id));
  });
}

/** POST /visits/{id}/surcharges (S1): an amount and a reason on a visit in scope. */
export async function addSurcharge(db: SqlClient, me: Principal, id: string, amountCents: number, reason: string) {
  return db.$transaction(async (tx) => {
    await visitForUpdate(tx, await visitScopeOf(tx, me), id);
    const [row] = await tx.$queryRawUnsafe<SurchargeRow[]>(
      `INSERT INTO surcharge (id, tenant_id, visit_id, amount_cents, reason, created_by) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::uuid)
       RETURNING id, visit_id, amount_cents, reason, created_by, created_at`,
      randomUUID(), me.tenantId, id, amountCents, reason, me.personId,
    );
    return row!;
  });
}
