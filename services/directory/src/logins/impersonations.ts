import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { recordAudit } from '../audit/audit.js';
import { roleKeysOf } from '../people/view.js';

export type ImpersonationEvent = EventOf<'impersonation.started' | 'impersonation.ended'>;

/**
 * L7, B5, issue 16 item 4: an impersonation's start and end on the audit trail of both people — the
 * one acted as (`role: impersonated`) and the admin who acted (`role: impersonator`) — each shown
 * in the accounts of that person.
 */
export async function recordImpersonation(tx: SqlTx, event: ImpersonationEvent): Promise<void> {
  const { personId, impersonatorId, impersonationId } = event.data;
  const detail = event.type === 'impersonation.started'
    ? { impersonationId, reason: event.data.reason, expiresAt: event.data.expiresAt }
    : { impersonationId, endedBy: event.data.endedBy };
  const at = new Date(event.type === 'impersonation.ended' ? event.data.endedAt : event.time);
  const entries = [];
  for (const [role, subjectId, otherId] of [['impersonated', personId, impersonatorId], ['impersonator', impersonatorId, personId]] as const) {
    const { accountIds } = await roleKeysOf(tx, subjectId); // one statement at a time on a transaction
    entries.push({
      tenantId: event.tenantid, actor: event.data.actor, action: event.type, subjectId, at, accountIds,
      detail: { ...detail, role, [role === 'impersonated' ? 'impersonatorId' : 'personId']: otherId },
    });
  }
  await recordAudit(tx, ...entries);
}
