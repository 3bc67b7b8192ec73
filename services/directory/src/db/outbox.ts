import type { EventEnvelope } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { noteStagedEvents, stageEvents } from '@roster/platform/outbox';

/**
 * The platform's `stageEvents` (rule 2: the events exist if and only if the transaction commits),
 * in one statement for a large batch: a bulk access change of 1,000 memberships writes its 1,000
 * outbox rows in one round trip instead of 1,000. Rows keep the given order (outbox positions
 * follow it), which is the order the relay publishes them in.
 */
export async function stageManyEvents(tx: SqlTx, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length < 20) return stageEvents(tx, events);
  await tx.$executeRawUnsafe(
    `INSERT INTO outbox (id, type, subject, envelope)
     SELECT e->>'id', e->>'type', e->>'subject', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`,
    JSON.stringify(events),
  );
  noteStagedEvents(tx, events);
}
