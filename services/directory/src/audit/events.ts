import type { Actor, RosterEvent } from '@roster/contracts';
import { claimInbox } from '@roster/platform/inbox';
import type { DirectoryDb } from '../db/client.js';
import { roleKeysOf } from '../people/view.js';
import { recordAudit } from './audit.js';

/**
 * P9: another service's event on the trail of the person it concerns, once per event (inbox), at
 * the event's time, on the accounts the person belongs to; nothing when the person is not this
 * tenant's (another tenant's id, or someone the directory never had).
 */
export async function recordEventOnTrail(
  db: DirectoryDb, event: RosterEvent, entry: { subjectId: string; actor: Actor; detail: Record<string, unknown>; operationId?: string | null },
): Promise<void> {
  await db.$transaction(async (tx) => {
    if (!(await claimInbox(tx, 'directory', event))) return;
    const person = await tx.person.findFirst({ where: { id: entry.subjectId, tenantId: event.tenantid }, select: { id: true } });
    if (!person) return;
    const { accountIds } = await roleKeysOf(tx, entry.subjectId);
    await recordAudit(tx, {
      tenantId: event.tenantid, actor: entry.actor, action: event.type, subjectId: entry.subjectId, accountIds,
      operationId: entry.operationId ?? null, at: new Date(event.time), detail: entry.detail,
    });
  });
}
