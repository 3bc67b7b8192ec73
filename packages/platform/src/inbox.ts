import type { EventEnvelope } from '@roster/contracts';
import type { SqlTx } from './db/database.js';

/**
 * Claims `event` for `consumer` inside the handler's transaction (rule 2). Returns false when it
 * was handled before: the caller then does nothing. Because the claim commits or rolls back with
 * the handler's effects, an effect happens exactly once however often the event is delivered;
 * a concurrent duplicate waits on the row lock and then sees the claim.
 */
export async function claimInbox(tx: SqlTx, consumer: string, event: EventEnvelope): Promise<boolean> {
  const inserted = await tx.$executeRawUnsafe(
    'INSERT INTO inbox (consumer, event_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    consumer, event.id, event.type,
  );
  return inserted === 1;
}
