import type { EventEnvelope } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, type QueueOutcome } from '../messages/enqueue.js';
import { displayName, findPerson, ownersOf } from '../people/recipients.js';

/** Events a manager may watch with an event e-mail monitor (N2). */
export const MONITORABLE_EVENTS = [
  'user.created', 'user.deactivated', 'access.granted', 'access.revoked', 'invitation.created', 'visits.unassigned', 'request.submitted',
] as const;
export type MonitorableEvent = (typeof MONITORABLE_EVENTS)[number];

/** The e-mail a monitor sends: the generic one with a summary, or a template of its own (a client request's). */
export type MonitorMessage = string | { template: string; variables: Record<string, unknown> };

/** Whether anyone in the tenant holds an active monitor for `eventType` (a bulk run skips the per-event lookups when not). */
export async function hasActiveMonitor(tx: SqlTx, tenantId: string, eventType: MonitorableEvent): Promise<boolean> {
  const [row] = await tx.$queryRawUnsafe<{ any: boolean }[]>(
    `SELECT EXISTS (SELECT 1 FROM monitor WHERE tenant_id = $1::uuid AND event_type = $2 AND status = 'active') AS any`, tenantId, eventType,
  );
  return row?.any === true;
}

/** Who an event's monitors tell: the active holders of the tenant's active monitors of its type. */
export interface MonitorHolder { personId: string; firstName: string | null; email: string | null }

/**
 * The holders as SQL, on the given tenant and event-type expressions: a reaction that reads other
 * things anyway folds them into the same statement (`json_agg`) and passes them to `fireMonitors`.
 */
export const monitorHoldersSql = (tenant: string, eventType: string): string =>
  `SELECT DISTINCT p.id AS "personId", p.first_name AS "firstName", p.email
     FROM monitor m JOIN person_projection p ON p.id = m.person_id AND p.tenant_id = m.tenant_id
    WHERE m.tenant_id = ${tenant} AND m.event_type = ${eventType} AND m.status = 'active' AND p.status = 'active'`;

/**
 * Tells every active monitor of `event.type` in the tenant, once per (event, monitor holder);
 * `known`: the holders already read with the reaction's other reads. Monitors under review (their
 * holder was deactivated) stay silent until an owner deals with them.
 */
export async function fireMonitors(
  tx: SqlTx, event: EventEnvelope, message: MonitorMessage | (() => Promise<MonitorMessage>), known?: readonly MonitorHolder[],
): Promise<QueueOutcome[]> {
  if (!(MONITORABLE_EVENTS as readonly string[]).includes(event.type)) return [];
  const holders = known ?? await tx.$queryRawUnsafe<MonitorHolder[]>(monitorHoldersSql('$1::uuid', '$2'), event.tenantid, event.type);
  if (holders.length === 0) return [];
  // A message that needs a query of its own (a name) is built only when someone watches.
  const built = typeof message === 'function' ? await message() : message;
  const { template, variables } = typeof built === 'string'
    ? { template: 'monitor_event', variables: { eventType: event.type, summary: built } }
    : built;
  const outcomes: QueueOutcome[] = [];
  for (const h of holders) {
    outcomes.push(await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template, channel: 'email', recipientPersonId: h.personId, to: h.email,
      variables: { ...variables, firstName: h.firstName ?? '' },
    }));
  }
  return outcomes;
}

/**
 * Cascade (manager deactivated): the monitors held by the person ($2, in tenant $1) are flagged
 * for review instead of silently firing at an inactive person (an UPDATE, run inside the stop
 * effect's one statement); then the owners are told (`tellOwnersOfFlaggedMonitors`).
 */
export const FLAG_MONITORS = `UPDATE monitor SET status = 'review', review_reason = 'the person holding it was deactivated', flagged_at = now()
  WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND status = 'active'`;

/** The owners' e-mail about a departed manager's `flagged` monitors; the counts of the step. */
export async function tellOwnersOfFlaggedMonitors(tx: SqlTx, event: EventEnvelope, personId: string, flagged: number): Promise<{ monitorsFlagged: number; ownersTold: number }> {
  if (flagged === 0) return { monitorsFlagged: 0, ownersTold: 0 };
  const manager = await findPerson(tx, event.tenantid, personId);
  let told = 0;
  for (const owner of await ownersOf(tx, event.tenantid, personId)) {
    const outcome = await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template: 'monitors_need_review', channel: 'email', recipientPersonId: owner.id, to: owner.email,
      variables: { firstName: owner.firstName ?? '', managerName: displayName(manager), monitorCount: flagged },
    });
    if (outcome === 'queued') told++;
  }
  return { monitorsFlagged: flagged, ownersTold: told };
}

export async function countActiveMonitorsOf(tx: SqlTx, tenantId: string, personId: string): Promise<number> {
  const [row] = await tx.$queryRawUnsafe<{ n: bigint }[]>(
    `SELECT count(*) AS n FROM monitor WHERE tenant_id = $1::uuid AND person_id = $2::uuid AND status = 'active'`, tenantId, personId,
  );
  return Number(row?.n ?? 0);
}
