import type { Actor } from '@roster/contracts';
import { badRequest } from '@roster/platform/errors';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { DirectoryTx } from '../db/client.js';
import { recordAudit } from '../audit/audit.js';
import { lockPerson, requireAssignableStaff } from '../people/commands.js';
import { roleKeysOf } from '../people/view.js';

/**
 * P3: assigns a client to a staff member (a salesperson then sees them), or unassigns (null);
 * `client.assigned`. The staff member must be active; one later deactivated or archived leaves
 * the client flagged `orphaned` in lists until reassigned.
 */
export async function assignClient(tx: DirectoryTx, tenantId: string, clientId: string, staffId: string | null, actor: Actor): Promise<void> {
  const client = await lockPerson(tx, tenantId, clientId);
  if (client.kind !== 'client') throw badRequest(`${clientId} is a staff member; only clients are assigned`);
  if (staffId) await requireAssignableStaff(tx, tenantId, staffId);
  if (client.assigneeId === staffId) return;
  await tx.person.update({ where: { id: clientId }, data: { assigneeId: staffId } });
  await stageEvents(tx, [eventFor('directory', { type: 'client.assigned', subject: clientId, tenantId, subjectVersion: client.version, data: { clientId, staffId, actor } })]);
  const { accountIds } = await roleKeysOf(tx, clientId);
  await recordAudit(tx, { tenantId, actor, action: 'client.assigned', subjectId: clientId, accountIds, detail: { from: client.assigneeId, to: staffId } });
}
