import type { EventOf } from '@roster/contracts';
import { eventFor } from '@roster/platform/outbox';
import type { PersonEvent } from '@roster/platform/people-projection';
import type { SqlTx } from '@roster/platform/db/database';
import { stageEventsInBulk } from '../db/outbox-bulk.js';

/**
 * The scheduling column of the cascade table. Every effect is a constant number of SQL
 * statements whatever the number of visits it touches (bulk, never a loop over visits), runs in
 * the handler's transaction with the inbox claim and the cascade step, and has a dry run (B1)
 * that counts the same rows and changes nothing.
 */

// Visits a cascade may touch: not completed and not yet started.
const UPCOMING = `status <> 'completed' AND starts_at > now()`;
export const UNASSIGNED_CHUNK = 1000;

export interface StepResult {
  step: string;
  counts: Record<string, number>;
  detail: string | null;
}

type PreviewEvent = EventOf<'cascade.preview_requested'>;

export interface SitterRelease {
  visitIds: string[];
  defaultSitterCleared: number;
  schedulesWithoutSitter: number;
}

/**
 * A sitter (any staff member) leaves: every visit of theirs not completed and not yet started
 * loses its sitter, they stop being anyone's default sitter, their schedules keep going without
 * a sitter. Three statements.
 */
export async function unassignUpcomingVisitsOf(tx: SqlTx, tenantId: string, sitterId: string): Promise<SitterRelease> {
  // Schedules first: their row locks make a horizon extension running now either finish before
  // the visits are released (and its visits are released too) or see the schedule without a sitter.
  const schedulesWithoutSitter = await tx.$executeRawUnsafe(
    `UPDATE schedule SET sitter_id = NULL WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid`, tenantId, sitterId,
  );
  const defaultSitterCleared = await tx.$executeRawUnsafe(
    `UPDATE person_projection SET default_sitter_id = NULL WHERE tenant_id = $1::uuid AND default_sitter_id = $2::uuid`, tenantId, sitterId,
  );
  const [released] = await tx.$queryRawUnsafe<{ ids: string[] | null }[]>(
    `WITH released AS (
       UPDATE visit SET sitter_id = NULL WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid AND ${UPCOMING} RETURNING id
     ) SELECT array_agg(id::text) AS ids FROM released`,
    tenantId, sitterId,
  );
  return { visitIds: released?.ids ?? [], defaultSitterCleared, schedulesWithoutSitter };
}

/** `visits.unassigned`, chunked by 1,000 ids: every chunk says how many visits in all need a sitter. */
export function visitsUnassignedEvents(tenantId: string, sitterId: string, r: SitterRelease): EventOf<'visits.unassigned'>[] {
  if (r.visitIds.length === 0 && r.defaultSitterCleared === 0) return [];
  const total = Math.max(1, Math.ceil(r.visitIds.length / UNASSIGNED_CHUNK));
  return Array.from({ length: total }, (_, index) => eventFor('scheduling', {
    type: 'visits.unassigned', subject: sitterId, tenantId,
    data: {
      sitterId, visitCount: r.visitIds.length, visitIds: r.visitIds.slice(index * UNASSIGNED_CHUNK, (index + 1) * UNASSIGNED_CHUNK),
      chunk: { index, total }, defaultSitterClearedFor: r.defaultSitterCleared,
    },
  }));
}

export interface ClientRemoval {
  visitsDeleted: number;
  surchargesDeleted: number;
  schedulesRemoved: number;
}

/** A client leaves: incomplete future visits and their surcharges are deleted, schedules removed; history stays. Two statements. */
export async function deleteUpcomingVisitsOf(tx: SqlTx, tenantId: string, clientId: string): Promise<ClientRemoval> {
  // Schedules first (see unassignUpcomingVisitsOf): a horizon extension holding one finishes
  // before the visits are deleted, so its visits are deleted too. Past visits keep existing.
  const schedulesRemoved = await tx.$executeRawUnsafe(`DELETE FROM schedule WHERE tenant_id = $1::uuid AND client_id = $2::uuid`, tenantId, clientId);
  const [deleted] = await tx.$queryRawUnsafe<{ visits: number; surcharges: number }[]>(
    `WITH doomed AS (SELECT id FROM visit WHERE tenant_id = $1::uuid AND client_id = $2::uuid AND ${UPCOMING}),
          surcharges AS (DELETE FROM surcharge WHERE tenant_id = $1::uuid AND visit_id IN (SELECT id FROM doomed) RETURNING 1),
          visits AS (DELETE FROM visit WHERE id IN (SELECT id FROM doomed) RETURNING 1)
     SELECT (SELECT count(*) FROM visits)::int AS visits, (SELECT count(*) FROM surcharges)::int AS surcharges`,
    tenantId, clientId,
  );
  return { visitsDeleted: Number(deleted?.visits ?? 0), surchargesDeleted: Number(deleted?.surcharges ?? 0), schedulesRemoved };
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
    ? `${n.visitsDeleted} upcoming visit(s) and ${n.surchargesDeleted} surcharge(s) would be deleted, ${n.schedulesRemoved} schedule(s) removed; past and completed visits kept`
    : `${n.visitsDeleted} upcoming visit(s) and ${n.surchargesDeleted} surcharge(s) deleted, ${n.schedulesRemoved} schedule(s) removed; past and completed visits kept`,
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
  const released = await unassignUpcomingVisitsOf(tx, event.tenantid, personId);
  await stageEventsInBulk(tx, visitsUnassignedEvents(event.tenantid, personId, released));
  return sitterStep({ visitsUnassigned: released.visitIds.length, defaultSitterCleared: released.defaultSitterCleared, schedulesWithoutSitter: released.schedulesWithoutSitter });
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
    return clientStep({ visitsDeleted: n?.visits ?? 0, surchargesDeleted: n?.surcharges ?? 0, schedulesRemoved: n?.schedules ?? 0 }, true);
  }
  const [n] = await tx.$queryRawUnsafe<{ visits: number; defaults: number; schedules: number }[]>(
    `SELECT (SELECT count(*) FROM visit WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid AND ${UPCOMING})::int AS visits,
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
