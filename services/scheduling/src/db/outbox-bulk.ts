import type { EventEnvelope } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { noteStagedEvents } from '@roster/platform/outbox';

/**
 * The platform's `stageEvents` in one statement: a cascade touching 100,000 visits writes its
 * 100 chunked events with one INSERT, so that it stays a constant number of statements. Same
 * table, same columns, same transaction as the change (rule 2).
 */
export async function stageEventsInBulk(tx: SqlTx, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO outbox (id, type, subject, envelope)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
    events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.subject), events.map((e) => JSON.stringify(e)),
  );
  noteStagedEvents(tx, events);
}
