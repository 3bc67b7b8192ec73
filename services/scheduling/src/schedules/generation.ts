import { randomUUID } from 'node:crypto';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import type { Logger } from '@roster/platform/logging';
import { occurrencesBetween, parseRecurrence, type Recurrence } from './recurrence.js';

/** Visits exist this far ahead; the horizon job keeps moving it (S1, B7). */
export const HORIZON_DAYS = 56;
const DAY = 86_400_000;
// Replicas extend horizons one at a time; the unique (schedule_id, occurrence_local) makes a second pass harmless anyway.
const HORIZON_LOCK = 7_236_522;

export interface ScheduleRow {
  id: string;
  tenant_id: string;
  client_id: string;
  sitter_id: string | null;
  rrule: string;
  time_zone: string;
  start_time: string;
  start_date: Date;
  duration_minutes: number;
  service: string | null;
  generated_until: Date | null;
  created_at: Date;
}

export const SCHEDULE_COLUMNS = 's.id, s.tenant_id, s.client_id, s.sitter_id, s.rrule, s.time_zone, s.start_time, s.start_date, s.duration_minutes, s.service, s.generated_until, s.created_at';

export const recurrenceOf = (s: ScheduleRow): Recurrence => parseRecurrence({
  rrule: s.rrule, timeZone: s.time_zone, startTime: s.start_time, startDate: s.start_date.toISOString().slice(0, 10), durationMinutes: s.duration_minutes,
});

/**
 * Inserts the schedule's visits starting in [from, to) in one statement. An occurrence that already
 * has its visit (same schedule, same local date-time) is left alone: regenerating never duplicates.
 */
export async function generateVisits(tx: SqlTx, s: ScheduleRow, from: Date, to: Date): Promise<number> {
  const occurrences = occurrencesBetween(recurrenceOf(s), from, to);
  if (occurrences.length === 0) return 0;
  // The visits and, when the schedule has a sitter, their assignments, in one statement.
  const [row] = await tx.$queryRawUnsafe<{ n: number }[]>(
    `WITH inserted AS (
       INSERT INTO visit (id, tenant_id, client_id, starts_at, ends_at, service, time_zone, schedule_id, occurrence_local)
       SELECT o.id, $1::uuid, $2::uuid, o.starts_at, o.ends_at, $4, $5, $6::uuid, o.local
       FROM unnest($7::uuid[], $8::timestamptz[], $9::timestamptz[], $10::timestamp[]) AS o(id, starts_at, ends_at, local)
       ON CONFLICT (schedule_id, occurrence_local) WHERE schedule_id IS NOT NULL DO NOTHING
       RETURNING id, starts_at
     ), assigned AS (
       INSERT INTO visit_assignment (visit_id, tenant_id, sitter_id, starts_at)
       SELECT id, $1::uuid, $3::uuid, starts_at FROM inserted WHERE $3::uuid IS NOT NULL
     )
     SELECT count(*)::int AS n FROM inserted`,
    s.tenant_id, s.client_id, s.sitter_id, s.service, s.time_zone, s.id,
    occurrences.map(() => randomUUID()), occurrences.map((o) => o.startsAt), occurrences.map((o) => o.endsAt), occurrences.map((o) => o.local),
  );
  return row?.n ?? 0;
}

/** Generates a schedule's visits up to `now + horizon` and records how far it got. The schedule row must be locked by the caller. */
export async function fillHorizon(tx: SqlTx, s: ScheduleRow, now: Date): Promise<number> {
  const until = new Date(now.getTime() + HORIZON_DAYS * DAY);
  const from = s.generated_until && s.generated_until > now ? s.generated_until : now;
  const created = await generateVisits(tx, s, from, until);
  await tx.$executeRawUnsafe('UPDATE schedule SET generated_until = $2::timestamptz WHERE id = $1::uuid AND tenant_id = $3::uuid', s.id, until, s.tenant_id);
  return created;
}

/**
 * The background job (safe with several replicas): schedules whose visits end less than a day
 * before the horizon get their next visits. A transaction-scoped advisory lock lets one replica
 * work at a time; schedule rows are locked so that a cascade releasing their sitter or client
 * waits for (and then sees) the visits generated here. Returns the number of visits created.
 */
export async function extendScheduleHorizons(
  db: SqlClient, now = new Date(), logger?: Logger,
  scheduleFailed: (item: Record<string, unknown>, error: unknown) => void = (item, error) => logger?.error({ err: error, ...item }, 'a schedule could not be extended; the others go on'),
): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await db.$transaction(async (tx) => {
      const [lock] = await tx.$queryRawUnsafe<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', HORIZON_LOCK);
      if (!lock?.locked) return { schedules: 0, created: 0 };
      const due = await tx.$queryRawUnsafe<ScheduleRow[]>(
        `SELECT ${SCHEDULE_COLUMNS} FROM schedule s
         WHERE s.generated_until IS NULL OR s.generated_until < $1::timestamptz
         ORDER BY s.generated_until NULLS FIRST, s.id LIMIT 200 FOR UPDATE SKIP LOCKED`,
        new Date(now.getTime() + (HORIZON_DAYS - 1) * DAY),
      );
      // One schedule that cannot be extended (issue 15: a zone the database no longer knows …) is
      // rolled back alone and reported; the other tenants' schedules go on.
      let created = 0;
      let extended = 0;
      for (const s of due) {
        await tx.$executeRawUnsafe('SAVEPOINT extend_one');
        try {
          created += await fillHorizon(tx, s, now);
          await tx.$executeRawUnsafe('RELEASE SAVEPOINT extend_one');
          extended++;
        } catch (error) {
          await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT extend_one');
          scheduleFailed({ scheduleId: s.id, tenantId: s.tenant_id }, error);
        }
      }
      return { schedules: due.length, created, extended };
    }, { timeout: 60_000, maxWait: 10_000 });
    total += batch.created;
    // A full page none of which could be extended would come back as it is: stop until the next run.
    if (batch.schedules < 200 || batch.extended === 0) break;
  }
  if (total > 0) logger?.info({ visits: total }, 'schedule horizons extended');
  return total;
}
