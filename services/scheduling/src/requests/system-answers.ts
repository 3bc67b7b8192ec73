import type { Actor } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { RequestRow } from './queries.js';

/** The actor of what scheduling does on its own (P9): the system. */
export const SYSTEM_ACTOR: Actor = { kind: 'system', personId: null, impersonatorId: null };

/** `request.declined` for a request just declined, by a manager or by the system. */
export function requestDeclinedEvent(r: Pick<RequestRow, 'id' | 'tenant_id' | 'client_id' | 'kind'>, reason: string, actor: Actor) {
  return eventFor('scheduling', {
    type: 'request.declined', subject: r.client_id, tenantId: r.tenant_id,
    data: { requestId: r.id, clientId: r.client_id, kind: r.kind, reason, actor },
  });
}

/**
 * S3: a pending change or cancellation whose visit is gone (deleted with its schedule, cancelled
 * by another request) or done (completed) can no longer be granted: the system declines it with
 * the reason, in the transaction that removed or completed the visit, and the client is told
 * (`request.declined`). One statement whatever the number; returns how many it declined.
 */
export async function declineRequestsAboutGoneVisits(tx: SqlTx, tenantId: string): Promise<number> {
  const declined = await tx.$queryRawUnsafe<(Pick<RequestRow, 'id' | 'tenant_id' | 'client_id' | 'kind'> & { reason: string })[]>(
    `WITH gone AS (
       SELECT r.id, CASE WHEN v.id IS NULL THEN 'the visit no longer exists' ELSE 'the visit was completed' END AS reason
         FROM visit_request r LEFT JOIN visit v ON v.id = r.visit_id AND v.tenant_id = r.tenant_id
        WHERE r.tenant_id = $1::uuid AND r.status = 'pending' AND r.visit_id IS NOT NULL AND (v.id IS NULL OR v.status = 'completed')
        FOR UPDATE OF r
     )
     UPDATE visit_request r SET status = 'declined', answered_at = now(), answered_by = NULL, decline_reason = gone.reason
       FROM gone WHERE r.id = gone.id AND r.status = 'pending'
     RETURNING r.id, r.tenant_id, r.client_id, r.kind, gone.reason`,
    tenantId,
  );
  await stageEvents(tx, declined.map((r) => requestDeclinedEvent(r, r.reason, SYSTEM_ACTOR)));
  return declined.length;
}

/**
 * Cascade (client deactivated or archived, C1): the client's pending requests are withdrawn with
 * their future visits. Returns how many.
 */
export async function withdrawPendingRequestsOf(tx: SqlTx, tenantId: string, clientId: string): Promise<number> {
  return tx.$executeRawUnsafe(
    `UPDATE visit_request SET status = 'withdrawn', answered_at = now(), answered_by = NULL
      WHERE tenant_id = $1::uuid AND client_id = $2::uuid AND status = 'pending'`,
    tenantId, clientId,
  );
}

export async function countPendingRequestsOf(tx: SqlTx, tenantId: string, clientId: string): Promise<number> {
  const [row] = await tx.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM visit_request WHERE tenant_id = $1::uuid AND client_id = $2::uuid AND status = 'pending'`, tenantId, clientId,
  );
  return row?.n ?? 0;
}
