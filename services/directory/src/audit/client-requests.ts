import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { recordEventOnTrail } from './events.js';

export type ClientRequestEvent = EventOf<'request.submitted' | 'request.approved' | 'request.declined'>;

/**
 * P9, S3: a client's request and its answer on the client's audit trail, with who asked and who
 * answered (a manager, or the system when the visit it was about is gone).
 */
export async function recordClientRequest(tx: SqlTx, event: ClientRequestEvent): Promise<void> {
  const d = event.data;
  const detail: Record<string, unknown> = { requestId: d.requestId, kind: d.kind };
  if (event.type === 'request.submitted') Object.assign(detail, { visits: event.data.visits.length, visitId: event.data.visitId });
  if (event.type === 'request.approved') Object.assign(detail, { visitIds: event.data.visitIds, sitterId: event.data.sitterId });
  if (event.type === 'request.declined') Object.assign(detail, { reason: event.data.reason });
  await recordEventOnTrail(tx, event, { subjectId: d.clientId, actor: d.actor, detail });
}
