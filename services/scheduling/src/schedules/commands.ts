import { openTimeCursor, sealTimeCursor } from '@roster/platform/paging';
import { randomUUID } from 'node:crypto';
import { requireKnownTimeZone } from '../db/time-zones.js';
import type { Principal } from '@roster/platform/auth/claims';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import { DomainError, notFound } from '@roster/platform/errors';
import { assignableDefaultSitter, requireActiveClient, requireAssignableSitter } from '../people/eligibility.js';
import { SCHEDULE_SCOPE, scopeCondition, visitScopeOf } from '../visits/scope.js';
import { fillHorizon, HORIZON_DAYS, recurrenceOf, SCHEDULE_COLUMNS, type ScheduleRow } from './generation.js';
import { InvalidRecurrence, occurrencesBetween, parseRecurrence, todayIn } from './recurrence.js';
import { IANAZone } from 'luxon';
import { declineRequestsAboutGoneVisits } from '../requests/system-answers.js';

export interface NewSchedule {
  clientId: string;
  /** Omitted: the client's default sitter (if still assignable); null: visits start unassigned. */
  sitterId?: string | null | undefined;
  rrule: string;
  timeZone: string;
  startTime: string;
  durationMinutes: number;
  startDate?: string | undefined;
  service?: string | undefined;
}

export const scheduleDto = (s: ScheduleRow) => ({
  id: s.id, clientId: s.client_id, sitterId: s.sitter_id, rrule: s.rrule, timeZone: s.time_zone, startTime: s.start_time,
  startDate: s.start_date.toISOString().slice(0, 10), durationMinutes: s.duration_minutes, service: s.service,
  generatedUntil: s.generated_until?.toISOString() ?? null, createdAt: s.created_at.toISOString(),
});

/** An InvalidRecurrence as the same 400 a schema failure gives, naming the body field. */
export function recurrenceProblem(error: InvalidRecurrence) {
  const path = `body.${error.field}`;
  return new DomainError('invalid', 'validation', 'Invalid request', `${path}: ${error.message}`, { errors: [{ path, message: error.message }] });
}

const parseOrProblem = (input: Parameters<typeof parseRecurrence>[0]) => {
  try {
    return parseRecurrence(input);
  } catch (error) {
    if (error instanceof InvalidRecurrence) throw recurrenceProblem(error);
    throw error;
  }
};

/** POST /schedules (S1, B7): the schedule and its visits up to the horizon, in one transaction. */
export async function createSchedule(db: SqlClient, me: Principal, body: NewSchedule, now = new Date()) {
  // Default: today in the schedule's zone (an invalid zone is refused by parseRecurrence just below).
  const startDate = body.startDate ?? todayIn(IANAZone.isValidZone(body.timeZone) ? body.timeZone : 'UTC', now);
  const recurrence = parseOrProblem({ ...body, startDate });
  return db.$transaction(async (tx) => {
    const sitterId = body.sitterId === undefined ? await assignableDefaultSitter(tx, me.tenantId, body.clientId) : body.sitterId;
    if (sitterId && body.sitterId !== undefined) await requireAssignableSitter(tx, me.tenantId, sitterId);
    await requireActiveClient(tx, me.tenantId, body.clientId);
    const timeZone = await requireKnownTimeZone(tx, recurrence.timeZone);
    const [row] = await tx.$queryRawUnsafe<ScheduleRow[]>(
      `INSERT INTO schedule AS s (id, tenant_id, client_id, sitter_id, rrule, time_zone, start_time, start_date, duration_minutes, service)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, $7, $8::date, $9, $10) RETURNING ${SCHEDULE_COLUMNS}`,
      randomUUID(), me.tenantId, body.clientId, sitterId, recurrence.rrule, timeZone, recurrence.startTime, startDate,
      recurrence.durationMinutes, body.service ?? null,
    );
    const visitsGenerated = await fillHorizon(tx, row!, now);
    const [saved] = await tx.$queryRawUnsafe<ScheduleRow[]>(`SELECT ${SCHEDULE_COLUMNS} FROM schedule s WHERE s.id = $1::uuid AND s.tenant_id = $2::uuid`, row!.id, me.tenantId);
    return { ...scheduleDto(saved!), visitsGenerated };
  }, { timeout: 30_000 });
}

/** GET /schedules?clientId=&limit=&cursor=: the schedules the caller may see (same scope as visits), oldest first, keyset-paged. */
export async function listSchedules(db: SqlTx, me: Principal, q: { clientId?: string | undefined; limit: number; cursor?: string | undefined }) {
  const params: unknown[] = [me.tenantId];
  const where = ['s.tenant_id = $1::uuid', scopeCondition(await visitScopeOf(db, me), SCHEDULE_SCOPE, params)];
  if (q.clientId) where.push(`s.client_id = $${params.push(q.clientId)}::uuid`);
  const binding = { tenantId: me.tenantId, query: `schedules:${q.clientId ?? ''}` };
  const after = openTimeCursor(q.cursor, binding);
  if (after) where.push(`(s.created_at, s.id) > ($${params.push(after.at)}::timestamptz, $${params.push(after.id)}::uuid)`);
  const rows = await db.$queryRawUnsafe<ScheduleRow[]>(
    `SELECT ${SCHEDULE_COLUMNS} FROM schedule s WHERE ${where.join(' AND ')} ORDER BY s.created_at, s.id LIMIT $${params.push(q.limit + 1)}`, ...params,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { items: page.map(scheduleDto), nextCursor: rows.length > q.limit && last ? sealTimeCursor(last.created_at, last.id, binding) : null };
}

async function scheduleForUpdate(tx: SqlTx, me: Principal, id: string): Promise<ScheduleRow> {
  const params: unknown[] = [me.tenantId, id];
  const [row] = await tx.$queryRawUnsafe<ScheduleRow[]>(
    `SELECT ${SCHEDULE_COLUMNS} FROM schedule s WHERE s.tenant_id = $1::uuid AND s.id = $2::uuid AND ${scopeCondition(await visitScopeOf(tx, me), SCHEDULE_SCOPE, params)} FOR UPDATE OF s`,
    ...params,
  );
  if (!row) throw notFound(`schedule ${id}`);
  return row;
}

/** Upcoming visits of a schedule (not completed, not started) and their surcharges, deleted in one statement. */
async function deleteUpcomingVisitsOfSchedule(tx: SqlTx, s: ScheduleRow, keepLocals: string[] | null): Promise<number> {
  const [row] = await tx.$queryRawUnsafe<{ n: number }[]>(
    `WITH doomed AS (
       SELECT id FROM visit WHERE tenant_id = $1::uuid AND schedule_id = $2::uuid AND status <> 'completed' AND starts_at > now()
         AND ($3::timestamp[] IS NULL OR NOT (occurrence_local = ANY($3::timestamp[])))),
     surcharges AS (DELETE FROM surcharge WHERE visit_id IN (SELECT id FROM doomed)),
     assignments AS (DELETE FROM visit_assignment WHERE visit_id IN (SELECT id FROM doomed)),
     visits AS (DELETE FROM visit WHERE id IN (SELECT id FROM doomed) RETURNING 1)
     SELECT count(*)::int AS n FROM visits`,
    s.tenant_id, s.id, keepLocals,
  );
  // S3: a pending change or cancellation of a visit deleted here is declined by the system.
  if ((row?.n ?? 0) > 0) await declineRequestsAboutGoneVisits(tx, s.tenant_id);
  return row?.n ?? 0;
}

/** DELETE /schedules/{id}: the schedule and its upcoming visits go; past and completed visits stay. */
export async function deleteSchedule(db: SqlClient, me: Principal, id: string) {
  return db.$transaction(async (tx) => {
    const s = await scheduleForUpdate(tx, me, id);
    const visitsDeleted = await deleteUpcomingVisitsOfSchedule(tx, s, null);
    await tx.$executeRawUnsafe('DELETE FROM schedule WHERE id = $1::uuid AND tenant_id = $2::uuid', id, me.tenantId);
    return { visitsDeleted };
  });
}

export interface ScheduleChange {
  sitterId?: string | null | undefined;
  rrule?: string | undefined;
  timeZone?: string | undefined;
  startTime?: string | undefined;
  durationMinutes?: number | undefined;
}

/**
 * PATCH /schedules/{id} (B7): editing regenerates the upcoming visits without duplicating any.
 * Occurrences that remain keep their visit (times updated in place: a new zone or duration),
 * occurrences that disappear lose their upcoming visit, new ones get one; a new sitter takes
 * over the upcoming visits. Three statements whatever the number of visits.
 */
export async function changeSchedule(db: SqlClient, me: Principal, id: string, change: ScheduleChange, now = new Date()) {
  return db.$transaction(async (tx) => {
    const current = await scheduleForUpdate(tx, me, id);
    const next: ScheduleRow = {
      ...current,
      rrule: change.rrule ?? current.rrule,
      time_zone: change.timeZone === undefined ? current.time_zone : await requireKnownTimeZone(tx, change.timeZone),
      start_time: change.startTime ?? current.start_time,
      duration_minutes: change.durationMinutes ?? current.duration_minutes,
      sitter_id: change.sitterId === undefined ? current.sitter_id : change.sitterId,
    };
    const recurrence = parseOrProblem({
      rrule: next.rrule, timeZone: next.time_zone, startTime: next.start_time, startDate: next.start_date.toISOString().slice(0, 10), durationMinutes: next.duration_minutes,
    });
    if (change.sitterId) await requireAssignableSitter(tx, me.tenantId, change.sitterId);
    await tx.$executeRawUnsafe(
      `UPDATE schedule SET sitter_id = $2::uuid, rrule = $3, time_zone = $4, start_time = $5, duration_minutes = $6, generated_until = NULL WHERE id = $1::uuid AND tenant_id = $7::uuid`,
      id, next.sitter_id, recurrence.rrule, next.time_zone, next.start_time, next.duration_minutes, me.tenantId,
    );
    const until = new Date(now.getTime() + HORIZON_DAYS * 86_400_000);
    const horizonEnd = current.generated_until && current.generated_until > until ? current.generated_until : until;
    const wanted = occurrencesBetween(recurrenceOf({ ...next, rrule: recurrence.rrule }), now, horizonEnd);
    const visitsRemoved = await deleteUpcomingVisitsOfSchedule(tx, current, wanted.map((o) => o.local));
    const [moved] = await tx.$queryRawUnsafe<{ n: number }[]>(
      `WITH moved AS (
         UPDATE visit v SET starts_at = o.starts_at, ends_at = o.ends_at, time_zone = $3
         FROM unnest($4::timestamp[], $5::timestamptz[], $6::timestamptz[]) AS o(local, starts_at, ends_at)
         WHERE v.tenant_id = $1::uuid AND v.schedule_id = $2::uuid AND v.occurrence_local = o.local AND v.status <> 'completed' AND v.starts_at > now()
         RETURNING v.id, v.starts_at
       ), mirrored AS (UPDATE visit_assignment a SET starts_at = m.starts_at FROM moved m WHERE a.visit_id = m.id)
       SELECT count(*)::int AS n FROM moved`,
      me.tenantId, id, next.time_zone, wanted.map((o) => o.local), wanted.map((o) => o.startsAt), wanted.map((o) => o.endsAt),
    );
    if (change.sitterId !== undefined) await reassignUpcomingVisitsOfSchedule(tx, me.tenantId, id, change.sitterId);
    const [row] = await tx.$queryRawUnsafe<ScheduleRow[]>(`SELECT ${SCHEDULE_COLUMNS} FROM schedule s WHERE s.id = $1::uuid AND s.tenant_id = $2::uuid`, id, me.tenantId);
    const visitsGenerated = await fillHorizon(tx, row!, now);
    const [saved] = await tx.$queryRawUnsafe<ScheduleRow[]>(`SELECT ${SCHEDULE_COLUMNS} FROM schedule s WHERE s.id = $1::uuid AND s.tenant_id = $2::uuid`, id, me.tenantId);
    return { ...scheduleDto(saved!), visitsGenerated, visitsRemoved, visitsKept: moved?.n ?? 0 };
  }, { timeout: 30_000 });
}

/** A schedule's new sitter takes over its upcoming visits (null: they need a sitter). One statement. */
async function reassignUpcomingVisitsOfSchedule(tx: SqlTx, tenantId: string, scheduleId: string, sitterId: string | null): Promise<void> {
  const upcoming = `SELECT id, starts_at FROM visit WHERE tenant_id = $1::uuid AND schedule_id = $2::uuid AND status <> 'completed' AND starts_at > now()`;
  if (sitterId === null) {
    await tx.$executeRawUnsafe(`DELETE FROM visit_assignment WHERE tenant_id = $1::uuid AND visit_id IN (SELECT id FROM (${upcoming}) u)`, tenantId, scheduleId);
    return;
  }
  await tx.$executeRawUnsafe(
    `INSERT INTO visit_assignment (visit_id, tenant_id, sitter_id, starts_at) SELECT id, $1::uuid, $3::uuid, starts_at FROM (${upcoming}) u
     ON CONFLICT (visit_id) DO UPDATE SET sitter_id = EXCLUDED.sitter_id`,
    tenantId, scheduleId, sitterId,
  );
}
