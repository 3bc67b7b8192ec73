import type { EventOf } from '@roster/contracts';
import { eventFor, noteStagedEvents } from '@roster/platform/outbox';
import type { PersonEvent } from '@roster/platform/people-projection';
import type { SqlTx } from '@roster/platform/db/database';
import { stageEventsInBulk } from '../db/outbox-bulk.js';
import { countPendingRequestsOf, withdrawPendingRequestsOf } from '../requests/system-answers.js';

/**
 * The scheduling column of the cascade table. Every effect is a constant number of SQL
 * statements whatever the number of visits it touches (bulk, never a loop over visits), runs in
 * the handler's transaction with the inbox claim and the cascade step, and has a dry run (B1)
 * that counts the same rows and changes nothing.
 */

// Visits a cascade may touch: not completed and not yet started (on visit, and on visit_assignment's mirror).
const UPCOMING = `status <> 'completed' AND starts_at > now()`;
const UPCOMING_ASSIGNMENT = `NOT completed AND starts_at > now()`;
export const UNASSIGNED_CHUNK = 1000;

export interface StepResult {
  step: string;
  counts: Record<string, number>;
  detail: string | null;
}

type PreviewEvent = EventOf<'cascade.preview_requested'>;

export interface SitterRelease {
  visitsUnassigned: number;
  defaultSitterCleared: number;
  schedulesWithoutSitter: number;
}

/**
 * A sitter (any staff member) leaves: every visit of theirs not completed and not yet started
 * loses its sitter, they stop being anyone's default sitter, their schedules keep going without
 * a sitter, and `visits.unassigned` tells managers how many visits need one, its ids chunked by
 * 1,000. Two statements (three when no visit but a default sitter changed). Unassigning is a
 * DELETE of the visits' assignments (see the visit_assignment migration for why).
 *
 * The released ids never leave Postgres: the statement that unassigns them also writes the
 * chunked events into the outbox, each built from one envelope made (and validated) by
 * `eventFor`, with its own id, the chunk's ids, the chunk's index and the total. Shipping
 * 100,000 ids to Node and 4 MB of JSON back cost more than the UPDATE's bookkeeping itself.
 */
export async function unassignUpcomingVisitsOf(tx: SqlTx, tenantId: string, sitterId: string): Promise<SitterRelease> {
  // Schedules first: their row locks make a horizon extension running now either finish before
  // the visits are released (and its visits are released too) or see the schedule without a sitter.
  // The default sitters go in the same statement (no order between the two).
  const [cleared] = await tx.$queryRawUnsafe<{ schedules: number; defaults: number }[]>(
    `WITH schedules AS (UPDATE schedule SET sitter_id = NULL WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid RETURNING 1),
          defaults AS (UPDATE person_projection SET default_sitter_id = NULL WHERE tenant_id = $1::uuid AND default_sitter_id = $2::uuid RETURNING 1)
     SELECT (SELECT count(*) FROM schedules)::int AS schedules, (SELECT count(*) FROM defaults)::int AS defaults`,
    tenantId, sitterId,
  );
  const schedulesWithoutSitter = cleared?.schedules ?? 0;
  const defaultSitterCleared = cleared?.defaults ?? 0;
  const template = visitsUnassignedEnvelope(tenantId, sitterId, defaultSitterCleared);
  const [released] = await tx.$queryRawUnsafe<{ n: number; ids: string[] | null }[]>(
    `WITH released AS (
       DELETE FROM visit_assignment WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid AND ${UPCOMING_ASSIGNMENT} RETURNING visit_id AS id
     ),
     chunks AS (
       SELECT chunk, jsonb_agg(id::text) AS ids
       FROM (SELECT id, (row_number() OVER () - 1) / ${UNASSIGNED_CHUNK} AS chunk FROM released) numbered GROUP BY chunk
     ),
     totals AS (SELECT (SELECT count(*) FROM released)::int AS visits, (SELECT count(*) FROM chunks)::int AS chunks),
     staged AS (
       INSERT INTO outbox (id, type, subject, envelope)
       SELECT e.id, 'visits.unassigned', $2, $3::jsonb || jsonb_build_object('id', e.id, 'data', ($3::jsonb -> 'data') || jsonb_build_object(
                'visitIds', e.ids, 'visitCount', t.visits, 'chunk', jsonb_build_object('index', e.chunk, 'total', t.chunks)))
       FROM (SELECT gen_random_uuid()::text AS id, chunk, ids FROM chunks) e CROSS JOIN totals t
       ORDER BY e.chunk
       RETURNING id
     )
     SELECT visits AS n, (SELECT array_agg(id) FROM staged) AS ids FROM totals`,
    tenantId, sitterId, JSON.stringify(template),
  );
  // The step recorded after this names them as its follow-ups (the operation awaits their steps).
  noteStagedEvents(tx, (released?.ids ?? []).map((id) => ({ ...template, id })));
  const visitsUnassigned = released?.n ?? 0;
  // No visit, but clients lost their default sitter: managers are still told, in one event.
  if (visitsUnassigned === 0 && defaultSitterCleared > 0) await stageEventsInBulk(tx, [template]);
  return { visitsUnassigned, defaultSitterCleared, schedulesWithoutSitter };
}

/** The envelope every chunk of `visits.unassigned` is made from (the chunk fills ids, count and index). */
function visitsUnassignedEnvelope(tenantId: string, sitterId: string, defaultSitterClearedFor: number): EventOf<'visits.unassigned'> {
  return eventFor('scheduling', {
    type: 'visits.unassigned', subject: sitterId, tenantId,
    data: { sitterId, visitCount: 0, visitIds: [], chunk: { index: 0, total: 1 }, defaultSitterClearedFor },
  });
}

export interface ClientRemoval {
  visitsDeleted: number;
  surchargesDeleted: number;
  schedulesRemoved: number;
  /** Their pending requests (S3), withdrawn with the visits. */
  requestsWithdrawn: number;
}

/** A client leaves: incomplete future visits and their surcharges are deleted, schedules removed, pending requests withdrawn; history stays. Three statements. */
export async function deleteUpcomingVisitsOf(tx: SqlTx, tenantId: string, clientId: string): Promise<ClientRemoval> {
  // Schedules first (see unassignUpcomingVisitsOf): a horizon extension holding one finishes
  // before the visits are deleted, so its visits are deleted too. Past visits keep existing.
  const schedulesRemoved = await tx.$executeRawUnsafe(`DELETE FROM schedule WHERE tenant_id = $1::uuid AND client_id = $2::uuid`, tenantId, clientId);
  const [deleted] = await tx.$queryRawUnsafe<{ visits: number; surcharges: number }[]>(
    `WITH doomed AS (SELECT id FROM visit WHERE tenant_id = $1::uuid AND client_id = $2::uuid AND ${UPCOMING}),
          surcharges AS (DELETE FROM surcharge WHERE tenant_id = $1::uuid AND visit_id IN (SELECT id FROM doomed) RETURNING 1),
          assignments AS (DELETE FROM visit_assignment WHERE tenant_id = $1::uuid AND visit_id IN (SELECT id FROM doomed)),
          visits AS (DELETE FROM visit WHERE id IN (SELECT id FROM doomed) RETURNING 1)
     SELECT (SELECT count(*) FROM visits)::int AS visits, (SELECT count(*) FROM surcharges)::int AS surcharges`,
    tenantId, clientId,
  );
  // After the visits (the order every writer locks visits and requests in): C1 withdraws pending requests too.
  const requestsWithdrawn = await withdrawPendingRequestsOf(tx, tenantId, clientId);
  return { visitsDeleted: Number(deleted?.visits ?? 0), surchargesDeleted: Number(deleted?.surcharges ?? 0), schedulesRemoved, requestsWithdrawn };
}

const sitterStep = (n: { visitsUnassigned: number; defaultSitterCleared: number; schedulesWithoutSitter: number }, would = false): StepResult => ({
  step: 'unassign_upcoming_visits',
  counts: n,
  detail: would
    ? `${n.visitsUnassigned} visit(s) would need a sitter; would stop being default sitter of ${n.defaultSitterCleared} client(s); ${n.schedulesWithoutSitter} schedule(s) would continue without a sitter`
    : `${n.visitsUnassigned} visit(s) need a sitter; no longer default sitter of ${n.defaultSitterCleared} client(s); ${n.schedulesWithoutSitter} schedule(s) continue without a sitter`,
});

const clientStep = (n: ClientRemoval, would = false): StepResult => ({
  step: 'delete_upcoming_visits',
  counts: { ...n },
  detail: would
    ? `${n.visitsDeleted} upcoming visit(s) and ${n.surchargesDeleted} surcharge(s) would be deleted, ${n.schedulesRemoved} schedule(s) removed, ${n.requestsWithdrawn} pending request(s) withdrawn; past and completed visits kept`
    : `${n.visitsDeleted} upcoming visit(s) and ${n.surchargesDeleted} surcharge(s) deleted, ${n.schedulesRemoved} schedule(s) removed, ${n.requestsWithdrawn} pending request(s) withdrawn; past and completed visits kept`,
});

/** user.deactivated / user.archived (the cascade table's rows "client deactivated", "sitter / staff deactivated", "user archived"). */
export async function releaseVisitsOfDepartedPerson(tx: SqlTx, event: PersonEvent): Promise<StepResult> {
  const { personId, kind } = event.data;
  if (kind === 'client') {
    const removed = await deleteUpcomingVisitsOf(tx, event.tenantid, personId);
    if (removed.visitsDeleted + removed.surchargesDeleted + removed.schedulesRemoved > 0) {
      await stageEventsInBulk(tx, [eventFor('scheduling', {
        type: 'visits.deleted', subject: personId, tenantId: event.tenantid,
        data: { clientId: personId, visitCount: removed.visitsDeleted, surchargeCount: removed.surchargesDeleted, scheduleCount: removed.schedulesRemoved },
      })]);
    }
    return clientStep(removed);
  }
  return sitterStep(await unassignUpcomingVisitsOf(tx, event.tenantid, personId));
}

/** cascade.preview_requested (B1): the same counts, one read-only statement, nothing changed. */
export async function previewReleaseOfVisits(tx: SqlTx, event: PreviewEvent): Promise<StepResult> {
  const { personId, kind } = event.data;
  if (kind === 'client') {
    const [n] = await tx.$queryRawUnsafe<{ visits: number; surcharges: number; schedules: number }[]>(
      `SELECT (SELECT count(*) FROM visit WHERE tenant_id = $1::uuid AND client_id = $2::uuid AND ${UPCOMING})::int AS visits,
              (SELECT count(*) FROM surcharge s JOIN visit v ON v.id = s.visit_id
                WHERE v.tenant_id = $1::uuid AND v.client_id = $2::uuid AND v.${UPCOMING.replace(' AND ', ' AND v.')})::int AS surcharges,
              (SELECT count(*) FROM schedule WHERE tenant_id = $1::uuid AND client_id = $2::uuid)::int AS schedules`,
      event.tenantid, personId,
    );
    const requestsWithdrawn = await countPendingRequestsOf(tx, event.tenantid, personId);
    return clientStep({ visitsDeleted: n?.visits ?? 0, surchargesDeleted: n?.surcharges ?? 0, schedulesRemoved: n?.schedules ?? 0, requestsWithdrawn }, true);
  }
  const [n] = await tx.$queryRawUnsafe<{ visits: number; defaults: number; schedules: number }[]>(
    `SELECT (SELECT count(*) FROM visit_assignment WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid AND ${UPCOMING_ASSIGNMENT})::int AS visits,
            (SELECT count(*) FROM person_projection WHERE tenant_id = $1::uuid AND default_sitter_id = $2::uuid)::int AS defaults,
            (SELECT count(*) FROM schedule WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid)::int AS schedules`,
    event.tenantid, personId,
  );
  return sitterStep({ visitsUnassigned: n?.visits ?? 0, defaultSitterCleared: n?.defaults ?? 0, schedulesWithoutSitter: n?.schedules ?? 0 }, true);
}

/** user.reactivated / user.restored: nothing comes back, and the step says so. */
export async function keepVisitsAsTheyAre(): Promise<StepResult> {
  return {
    step: 'keep_visits_unchanged',
    counts: { visitsChanged: 0 },
    detail: 'reactivation changes no visit: visits unassigned or deleted by the deactivation stay so, and default sitters are not restored; assign them again',
  };
}
