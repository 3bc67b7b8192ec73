import type { EventOf, RosterEvent, ServiceName } from '@roster/contracts';
import type { BusLogger } from './bus/types.js';
import type { SqlTx } from './db/database.js';
import { recordStep } from './steps.js';

/**
 * Every service keeps the small projection of people it needs (rule 1) in a `person_projection`
 * table (id, tenant_id, kind, status, version, updated_at; services may add columns). Versions make
 * it order-proof (rule 3): an event older than what is stored changes nothing, so a reactivation
 * that overtakes its deactivation still ends active.
 */
const STATUS_AFTER = {
  'user.created': 'active',
  'user.updated': null,
  'user.deactivated': 'inactive',
  'user.reactivated': 'active',
  'user.archived': 'archived',
  'user.restored': 'active',
} as const;

export type PersonEventType = keyof typeof STATUS_AFTER;
export type PersonEvent = EventOf<PersonEventType>;
export const PERSON_EVENT_TYPES = Object.keys(STATUS_AFTER) as PersonEventType[];

/** Applies a person event to the projection; false when the event is older than the stored version. */
export async function advancePersonProjection(tx: SqlTx, event: PersonEvent): Promise<boolean> {
  const version = event.subjectversion ?? 0;
  const status = STATUS_AFTER[event.type];
  const changed = await tx.$executeRawUnsafe(
    `INSERT INTO person_projection (id, tenant_id, kind, status, version, updated_at)
     VALUES ($1, $2, $3, COALESCE($4, 'active'), $5, now())
     ON CONFLICT (id) DO UPDATE
       SET kind = EXCLUDED.kind, status = COALESCE($4, person_projection.status), version = EXCLUDED.version, updated_at = now()
     WHERE person_projection.version < EXCLUDED.version AND person_projection.tenant_id = EXCLUDED.tenant_id`,
    event.data.personId, event.tenantid, event.data.kind, status, version,
  );
  return changed === 1;
}

type PreviewEvent = EventOf<'cascade.preview_requested'>;

/** What a service did (or would do) for one person event, reported as its cascade step (B4). */
export interface StepReport {
  /** Business name of the step, e.g. `unassign_upcoming_visits`; defaults to the effect's step. */
  step?: string;
  counts: Record<string, number>;
  detail?: string | null;
}

/** One service's part of a person cascade for one lifecycle event. */
export interface CascadeEffect<R extends StepReport = StepReport, Tx extends SqlTx = SqlTx> {
  /** The step this event is reported under, also when a stale copy of it is ignored. */
  step: string | ((event: PersonEvent) => string);
  /** The effect, in the handler's transaction; null when there is nothing to report. */
  apply(tx: Tx, event: PersonEvent): Promise<R | null>;
}

/** A service's column of the cascade table (rule 1, rule 3, B1), on its transaction type `Tx`. */
export interface PersonLifecycle<R extends StepReport = StepReport, Tx extends SqlTx = SqlTx> {
  service: ServiceName;
  logger: BusLogger;
  /** The effect per lifecycle event; events without one only update the projection. */
  effects: Partial<Record<PersonEventType, CascadeEffect<R, Tx>>>;
  /** B1: what a deactivation or archive would do, changing nothing; null for no step. */
  preview(tx: Tx, event: PreviewEvent): Promise<(StepReport & { step: string }) | null>;
  /**
   * What the service keeps of a person beyond kind/status/version (names, contacts, first
   * membership), after the projection took the event or not (`fresh`): each service decides
   * what an older version may still fill in.
   */
  recordProfile?(tx: Tx, event: PersonEvent, fresh: boolean): Promise<void>;
}

export const isPersonEvent = (event: RosterEvent): event is PersonEvent => (PERSON_EVENT_TYPES as string[]).includes(event.type);

/**
 * Applies a person lifecycle event or an impact preview in the caller's inbox-guarded transaction:
 * the versioned projection, the service's profile columns, the effect and its cascade step, so the
 * step is reported if and only if the effect committed. An event older than the stored version
 * changes nothing and is reported as `stale_ignored` (rule 3). Returns the effect's report, or
 * null when nothing was applied (a preview, a stale event, an event without effect).
 */
export async function applyPersonLifecycleEvent<R extends StepReport, Tx extends SqlTx>(
  tx: Tx, lifecycle: PersonLifecycle<R, Tx>, event: PersonEvent | PreviewEvent, startedAt: number,
): Promise<R | null> {
  const { service } = lifecycle;
  if (event.type === 'cascade.preview_requested') {
    const would = await lifecycle.preview(tx, event);
    if (would) {
      await recordStep(tx, { service, step: would.step, outcome: 'previewed', counts: would.counts, detail: would.detail ?? null, startedAt, cause: event, dryRun: true });
    }
    return null;
  }
  const fresh = await advancePersonProjection(tx, event);
  await lifecycle.recordProfile?.(tx, event, fresh);
  const effect = lifecycle.effects[event.type];
  if (!effect) return null;
  const step = typeof effect.step === 'function' ? effect.step(event) : effect.step;
  if (!fresh) {
    lifecycle.logger.info({ eventId: event.id, type: event.type, version: event.subjectversion }, 'stale person event ignored');
    await recordStep(tx, {
      service, step, outcome: 'stale_ignored', counts: {}, startedAt, cause: event, detail: 'a newer version of the person was already applied',
    });
    return null;
  }
  const report = await effect.apply(tx, event);
  if (!report) return null;
  const touched = Object.values(report.counts).some((n) => n > 0);
  await recordStep(tx, {
    service, step: report.step ?? step, outcome: touched ? 'applied' : 'no_change', counts: report.counts, detail: report.detail ?? null, startedAt, cause: event,
  });
  return report;
}
