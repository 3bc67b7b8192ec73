import { eventFor } from '@roster/platform/outbox';
import type { SqlClient } from '@roster/platform/db/database';
import type { Logger } from '@roster/platform/logging';
import { stageEventsInBulk } from '../db/outbox-bulk.js';
import { todayIn } from '../schedules/recurrence.js';

interface DigestRow {
  tenant_id: string;
  sitter_id: string;
  time_zone: string;
  visits: { visitId: string; clientId: string; clientName: string | null; startsAt: string; endsAt: string; service: string | null }[];
}

/** The schedule.digest payload allows this many visits; a longer day is cut (said in the log). */
const MAX_VISITS = 200;

/**
 * N2: publishes `schedule.digest` for every active sitter with visits on `date` (YYYY-MM-DD, the
 * day local to the visits' time zone), once per sitter, day and zone whatever how often and on
 * how many replicas it runs: the `digest_sent` rows are claimed (unique key) in the same
 * transaction as the outbox rows. One transaction, a constant number of statements. `timeZone`
 * restricts it to visits in that zone (what the periodic job does at each zone's midnight).
 * Returns how many digests were published by this call.
 */
export async function publishDailyDigests(ctx: { prisma: SqlClient; relay: { nudge(): void }; logger?: Logger }, date: string, options: { timeZone?: string } = {}): Promise<number> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`publishDailyDigests: date must be YYYY-MM-DD, got "${date}"`);
  const published = await ctx.prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<DigestRow[]>(
      `WITH day_visits AS (
         SELECT v.tenant_id, a.sitter_id, v.time_zone, v.id, v.client_id, v.starts_at, v.ends_at, v.service,
                NULLIF(trim(concat_ws(' ', c.first_name, c.last_name)), '') AS client_name
         FROM visit_assignment a
         JOIN visit v ON v.id = a.visit_id AND v.tenant_id = a.tenant_id
         JOIN person_projection s ON s.id = a.sitter_id AND s.tenant_id = a.tenant_id AND s.kind = 'staff' AND s.status = 'active'
         LEFT JOIN person_projection c ON c.id = v.client_id AND c.tenant_id = v.tenant_id
         WHERE a.starts_at >= ($1::date - 2)::timestamptz AND a.starts_at < ($1::date + 3)::timestamptz
           AND (v.starts_at AT TIME ZONE v.time_zone)::date = $1::date
           AND ($2::text IS NULL OR v.time_zone = $2::text)
       ),
       claimed AS (
         INSERT INTO digest_sent (sitter_id, day, time_zone, tenant_id, visit_count)
         SELECT sitter_id, $1::date, time_zone, tenant_id, count(*)::int FROM day_visits GROUP BY tenant_id, sitter_id, time_zone
         ON CONFLICT (sitter_id, day, time_zone) DO NOTHING
         RETURNING tenant_id, sitter_id, time_zone
       )
       SELECT c.tenant_id, c.sitter_id, c.time_zone,
              json_agg(json_build_object(
                'visitId', d.id, 'clientId', d.client_id, 'clientName', d.client_name,
                'startsAt', to_char(d.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'endsAt', to_char(d.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'service', d.service) ORDER BY d.starts_at, d.id) AS visits
       FROM claimed c JOIN day_visits d ON d.tenant_id = c.tenant_id AND d.sitter_id = c.sitter_id AND d.time_zone = c.time_zone
       GROUP BY c.tenant_id, c.sitter_id, c.time_zone`,
      date, options.timeZone ?? null,
    );
    const events = rows.map((r) => {
      if (r.visits.length > MAX_VISITS) ctx.logger?.warn({ sitterId: r.sitter_id, date, visits: r.visits.length }, `schedule digest cut to ${MAX_VISITS} visits`);
      return eventFor('scheduling', {
        type: 'schedule.digest', subject: r.sitter_id, tenantId: r.tenant_id,
        data: { sitterId: r.sitter_id, date, timeZone: r.time_zone, visits: r.visits.slice(0, MAX_VISITS) },
      });
    });
    await stageEventsInBulk(tx, events);
    return events.length;
  }, { timeout: 60_000 });
  if (published > 0) ctx.relay.nudge();
  return published;
}

/**
 * The periodic part: for each zone with assigned visits around now, the digests of the day that
 * has begun there (sent from that zone's midnight on; later runs find them claimed).
 */
export async function publishTodaysDigests(
  ctx: Parameters<typeof publishDailyDigests>[0], now = new Date(),
  zoneFailed: (item: Record<string, unknown>, error: unknown) => void = (item, error) => ctx.logger?.error({ err: error, ...item }, 'daily digests of a time zone failed; the other zones go on'),
): Promise<number> {
  const zones = await ctx.prisma.$queryRawUnsafe<{ time_zone: string }[]>(
    `SELECT DISTINCT v.time_zone FROM visit_assignment a JOIN visit v ON v.id = a.visit_id
     WHERE a.starts_at >= $1::timestamptz - interval '1 day' AND a.starts_at < $1::timestamptz + interval '2 days'
     ORDER BY 1`,
    now,
  );
  let total = 0;
  // One zone's failure (a name the database no longer knows, a statement that fails) leaves the
  // other zones' digests, and so the other tenants', to go out; it is logged and tried next run.
  for (const { time_zone } of zones) {
    try {
      total += await publishDailyDigests(ctx, todayIn(time_zone, now), { timeZone: time_zone });
    } catch (error) {
      zoneFailed({ timeZone: time_zone }, error);
    }
  }
  return total;
}
