import type { Actor, RosterEvent } from '@roster/contracts';
import type { DirectoryTx } from '../db/client.js';
import { roleKeysOf } from '../people/view.js';
import { recordAudit } from './audit.js';

/**
 * P9: another service's event on the trail of the person it concerns, at
 * the event's time, on the accounts the person belongs to; nothing when the person is not this
 * tenant's (another tenant's id, or someone the directory never had).
 */
export async function recordEventOnTrail(
  tx: DirectoryTx, event: RosterEvent, entry: { subjectId: string; actor: Actor; detail: Record<string, unknown>; operationId?: string | null },
): Promise<void> {
  const person = await tx.person.findFirst({ where: { id: entry.subjectId, tenantId: event.tenantid }, select: { id: true } });
  if (!person) return;
  const { accountIds } = await roleKeysOf(tx, entry.subjectId);
  await recordAudit(tx, {
    tenantId: event.tenantid, actor: entry.actor, action: event.type, subjectId: entry.subjectId, accountIds,
    operationId: entry.operationId ?? null, at: new Date(event.time), detail: entry.detail,
  });
}
