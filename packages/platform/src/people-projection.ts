import type { EventOf, ServiceName } from '@roster/contracts';
import type { BusLogger } from './bus/types.js';
import type { SqlTx } from './db/database.js';
import { inBatches, type EffectMap, type EffectReport, type EventHandling } from './consumers.js';

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

/**
 * `advancePersonProjection` for a run of events of one type in one statement (issue 19: three
 * services upserted the projection once per event); the ids of the events the projection took.
 * A run that names a person twice goes one by one (one statement cannot change a row twice).
 */
export async function advancePersonProjections(tx: SqlTx, events: readonly PersonEvent[]): Promise<Set<string>> {
  const types = new Set(events.map((e) => e.type));
  const people = new Set(events.map((e) => e.data.personId.toLowerCase()));
  if (events.length < 2 || types.size > 1 || people.size < events.length) {
    const fresh = new Set<string>();
    for (const e of events) if (await advancePersonProjection(tx, e)) fresh.add(e.id);
    return fresh;
  }
  const status = STATUS_AFTER[events[0]!.type];
  const taken = await tx.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO person_projection (id, tenant_id, kind, status, version, updated_at)
     SELECT x.id, x.tenant_id, x.kind, COALESCE($5, 'active'), x.version, now()
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[]) AS x(id, tenant_id, kind, version)
     ON CONFLICT (id) DO UPDATE
       SET kind = EXCLUDED.kind, status = COALESCE($5, person_projection.status), version = EXCLUDED.version, updated_at = now()
     WHERE person_projection.version < EXCLUDED.version AND person_projection.tenant_id = EXCLUDED.tenant_id
     RETURNING id::text`,
    events.map((e) => e.data.personId), events.map((e) => e.tenantid), events.map((e) => e.data.kind), events.map((e) => e.subjectversion ?? 0), status,
  );
  const took = new Set(taken.map((r) => r.id.toLowerCase()));
  return new Set(events.filter((e) => took.has(e.data.personId.toLowerCase())).map((e) => e.id));
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
  /** After an effect applied, in its transaction (identity schedules its local revocation). */
  onApplied?(report: R, event: PersonEvent, handling: EventHandling<Tx>): void;
}

/**
 * A person lifecycle event or an impact preview, in the batch's inbox-guarded transaction: the
 * versioned projection, the service's profile columns and the effect, reported as the service's
 * cascade step, so the step is recorded if and only if the effect committed. An event older than
 * the stored version changes nothing and is reported as `stale_ignored` (rule 3).
 */
export async function applyPersonLifecycleEvent<R extends StepReport, Tx extends SqlTx>(
  lifecycle: PersonLifecycle<R, Tx>, event: PersonEvent | PreviewEvent, handling: EventHandling<Tx>,
): Promise<EffectReport | null> {
  const { tx } = handling;
  if (event.type === 'cascade.preview_requested') {
    const would = await lifecycle.preview(tx, event);
    return would ? { step: would.step, outcome: 'previewed', counts: would.counts, detail: would.detail ?? null, dryRun: true } : null;
  }
  return applyToAdvancedProjection(lifecycle, event, await advancePersonProjection(tx, event), handling);
}

/** The rest of `applyPersonLifecycleEvent` once the projection took the event (`fresh`) or not. */
async function applyToAdvancedProjection<R extends StepReport, Tx extends SqlTx>(
  lifecycle: PersonLifecycle<R, Tx>, event: PersonEvent, fresh: boolean, handling: EventHandling<Tx>,
): Promise<EffectReport | null> {
  const { tx } = handling;
  await lifecycle.recordProfile?.(tx, event, fresh);
  const effect = lifecycle.effects[event.type];
  if (!effect) return null;
  const step = typeof effect.step === 'function' ? effect.step(event) : effect.step;
  if (!fresh) {
    lifecycle.logger.info({ eventId: event.id, type: event.type, version: event.subjectversion }, 'stale person event ignored');
    return { step, outcome: 'stale_ignored', counts: {}, detail: 'a newer version of the person was already applied' };
  }
  const report = await effect.apply(tx, event);
  if (!report) return null;
  lifecycle.logger.info({ personId: event.data.personId, type: event.type, step: report.step ?? step, counts: report.counts }, 'person event applied');
  lifecycle.onApplied?.(report, event, handling);
  return { step: report.step ?? step, counts: report.counts, detail: report.detail ?? null };
}

/**
 * The consumer model's effects for a service's column of the cascade table: every person event
 * and the preview. A run of person events of one type advances the projection in one statement,
 * then each event's effect runs in its own work and trace context (what it stages is its own).
 */
export function personLifecycleEffects<R extends StepReport, Tx extends SqlTx>(lifecycle: PersonLifecycle<R, Tx>): EffectMap<Tx> {
  const run = inBatches<Tx, PersonEvent>(async (events, handling) => {
    const fresh = await advancePersonProjections(handling.tx, events);
    const reports: (EffectReport | null)[] = [];
    for (const event of events) reports.push(await handling.within(event, () => applyToAdvancedProjection(lifecycle, event, fresh.has(event.id), handling)));
    return reports;
  });
  const preview = (event: PreviewEvent, handling: EventHandling<Tx>) => applyPersonLifecycleEvent(lifecycle, event, handling);
  return { ...Object.fromEntries(PERSON_EVENT_TYPES.map((type) => [type, run])), 'cascade.preview_requested': preview } as EffectMap<Tx>;
}
