import type { Actor, RosterEvent } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { roleKeysOf } from '../people/view.js';
import { recordAudit } from './audit.js';

/**
 * P9: another service's event on the trail of the person it concerns, at
 * the event's time, on the accounts the person belongs to; nothing when the person is not this
 * tenant's (another tenant's id, or someone the directory never had).
 */
export async function recordEventOnTrail(
  tx: SqlTx, event: RosterEvent, entry: { subjectId: string; actor: Actor; detail: Record<string, unknown>; operationId?: string | null },
): Promise<void> {
  if (!(await isPersonOfTenant(tx, entry.subjectId, event.tenantid))) return;
  const { accountIds } = await roleKeysOf(tx, entry.subjectId);
  await recordAudit(tx, {
    tenantId: event.tenantid, actor: entry.actor, action: event.type, subjectId: entry.subjectId, accountIds,
    operationId: entry.operationId ?? null, at: new Date(event.time), detail: entry.detail,
  });
}

/** Whether `personId` is one of the tenant's people (an id from another tenant reads as unknown). */
export async function isPersonOfTenant(tx: SqlTx, personId: string, tenantId: string): Promise<boolean> {
  const rows = await tx.$queryRawUnsafe<unknown[]>('SELECT 1 FROM person WHERE id = $1::uuid AND tenant_id = $2::uuid', personId, tenantId);
  return rows.length > 0;
}
