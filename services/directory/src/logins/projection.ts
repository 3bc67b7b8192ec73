import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { SYSTEM_ACTOR } from '../audit/audit.js';
import { recordEventOnTrail } from '../audit/events.js';

export type LoginEvent = EventOf<'login.granted' | 'login.enabled' | 'login.disabled' | 'password.reset'>;

/**
 * What the directory shows of a person's login (`hasLogin`, `loginEnabled`), from identity's
 * events, never letting an older event overwrite a newer one (event
 * time against `login_changed_at`). Each is also a line of the person's audit trail (P9).
 */
export async function applyLoginEvent(tx: SqlTx, event: LoginEvent): Promise<void> {
  const personId = event.data.personId;
  const enabled = event.type === 'login.disabled' ? false : event.type === 'password.reset' ? null : true;
  const changed = await tx.$executeRawUnsafe(
    `UPDATE person SET has_login = true, login_enabled = COALESCE($3, login_enabled), login_changed_at = $4
     WHERE id = $1::uuid AND tenant_id = $2::uuid AND (login_changed_at IS NULL OR login_changed_at <= $4)`,
    personId, event.tenantid, enabled, new Date(event.time),
  );
  // Another tenant's id, or a person this directory never had: nothing to show, no line.
  await recordEventOnTrail(tx, event, {
    subjectId: personId, actor: event.data.actor, operationId: uuidOrNull(event.correlationid),
    detail: { applied: changed === 1, ...(event.type === 'password.reset' ? { reason: event.data.reason } : {}) },
  });
}

const uuidOrNull = (s: string | undefined) => (s && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ? s : null);

export type CascadeFactEvent = EventOf<'visits.unassigned' | 'visits.deleted'>;

/** P9: effects of a cascade in other services, on the trail of the person they concern, by `system`, linked to the operation. */
export async function recordCascadeFact(tx: SqlTx, event: CascadeFactEvent): Promise<void> {
  const subjectId = event.type === 'visits.unassigned' ? event.data.sitterId : event.data.clientId;
  const { sitterId: _s, clientId: _c, visitIds: _v, ...detail } = event.data as Record<string, unknown>;
  await recordEventOnTrail(tx, event, { subjectId, actor: SYSTEM_ACTOR, detail, operationId: uuidOrNull(event.correlationid) });
}
