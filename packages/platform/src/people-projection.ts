import type { EventOf, RosterEvent, ServiceName } from '@roster/contracts';
import type { BusLogger, SubscriptionOptions } from './bus/types.js';
import type { SqlClient, SqlTx } from './db/database.js';
import { claimInbox } from './inbox.js';
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

/** One service's part of a person cascade: what it does, and what it would do (B1). */
export interface CascadeEffect {
  /** Business name of the step, e.g. `unassign_future_visits`. */
  step: string;
  apply(tx: SqlTx, event: PersonEvent): Promise<Record<string, number>>;
  preview(tx: SqlTx, event: EventOf<'cascade.preview_requested'>): Promise<Record<string, number>>;
}

export interface PersonSubscriptionOptions {
  service: ServiceName;
  db: SqlClient;
  logger: BusLogger;
  /** Called after each commit that wrote to the outbox. */
  afterCommit(): void;
  /** The service's effect per lifecycle event; events without one only update the projection. */
  effects: Partial<Record<PersonEventType, CascadeEffect>>;
  /** The effect whose preview answers `cascade.preview_requested` for each action. */
  previews: Partial<Record<'deactivate' | 'archive', CascadeEffect>>;
}

/**
 * The subscription every service has for person lifecycle events and impact previews: inbox-
 * guarded, one transaction per event holding the projection change, the effect and the cascade
 * step (so the step is reported if and only if the effect committed).
 */
export function personLifecycleSubscription(o: PersonSubscriptionOptions): Omit<SubscriptionOptions, 'group'> {
  const handle = async (event: RosterEvent): Promise<void> => {
    const started = performance.now();
    await o.db.$transaction(async (tx) => {
      if (!(await claimInbox(tx, o.service, event))) return;
      if (event.type === 'cascade.preview_requested') {
        const effect = o.previews[event.data.action];
        if (!effect) return;
        const counts = await effect.preview(tx, event);
        await recordStep(tx, { service: o.service, step: effect.step, outcome: 'previewed', counts, startedAt: started, cause: event, dryRun: true });
        return;
      }
      if (!(PERSON_EVENT_TYPES as string[]).includes(event.type)) return;
      const personEvent = event as PersonEvent;
      const fresh = await advancePersonProjection(tx, personEvent);
      const effect = o.effects[personEvent.type];
      if (!effect) return;
      if (!fresh) {
        o.logger.info({ eventId: event.id, type: event.type, version: event.subjectversion }, 'stale person event ignored');
        await recordStep(tx, {
          service: o.service, step: effect.step, outcome: 'stale_ignored', counts: {}, startedAt: started, cause: event,
          detail: 'a newer version of the person was already applied',
        });
        return;
      }
      const counts = await effect.apply(tx, personEvent);
      const touched = Object.values(counts).some((n) => n > 0);
      await recordStep(tx, { service: o.service, step: effect.step, outcome: touched ? 'applied' : 'no_change', counts, startedAt: started, cause: event });
    });
    o.afterCommit();
  };
  return { types: [...PERSON_EVENT_TYPES, 'cascade.preview_requested'], handler: handle };
}
