import { createEvent, type EventEnvelope, type EventOf, type EventType, type NewEvent, type ServiceName } from '@roster/contracts';
import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { errorReason } from './bus/dispatch.js';
import type { Bus, BusLogger } from './bus/types.js';
import { currentWork } from './context.js';
import { currentTraceparent } from './telemetry.js';
import { WorkLoop } from './work-loop.js';
import type { SqlClient, SqlTx, TransactionRunner } from './db/sql.js';
import type { Writes } from './db/together.js';

/**
 * Builds an event for the work in progress: correlation and causation come from the current work
 * context (the request or the event being handled), the trace context from the active span, so
 * that the cascade and its trace follow the event across services (rule 9).
 */
export function eventFor<T extends EventType>(
  service: ServiceName,
  e: Omit<NewEvent<T>, 'correlationId' | 'causationId' | 'tenantId'> & { tenantId?: string; correlationId?: string },
): EventOf<T> {
  const work = currentWork();
  const tenantId = e.tenantId ?? work?.tenantId;
  if (!tenantId) throw new Error(`no tenant for ${e.type}: every event is tenant-scoped`);
  const event = createEvent(service, {
    ...e,
    tenantId,
    correlationId: e.correlationId ?? work?.correlationId ?? randomUUID(),
    causationId: work?.causationId,
  });
  return Object.assign(event, currentTraceparent());
}

/**
 * The events staged in each open transaction, so that a cascade step recorded in it can say which
 * of them it caused (`recordStep`'s follow-ups). Keyed weakly by the transaction object: gone with it.
 */
export type StagedEvent = Pick<EventEnvelope, 'id' | 'type' | 'correlationid' | 'causationid'>;
const stagedIn = new WeakMap<object, StagedEvent[]>();
export const eventsStagedIn = (tx: SqlTx): readonly StagedEvent[] => stagedIn.get(tx) ?? [];

/** For writers that insert outbox rows with their own SQL (bulk cascades): what they staged in `tx`. */
export function noteStagedEvents(tx: SqlTx, events: readonly StagedEvent[]): void {
  if (events.length === 0) return;
  const staged = stagedIn.get(tx);
  if (staged) staged.push(...events);
  else stagedIn.set(tx, [...events]);
}

/** `stageEvents` as a write of a command's one statement (`Writes`, as `staged`). */
export function stageEventsWith(writes: Writes, tx: SqlTx, events: readonly EventEnvelope[]): void {
  if (events.length === 0) return;
  noteStagedEvents(tx, events);
  writes.add('staged', `${outboxRowsFrom(writes.param(JSON.stringify(events)))} RETURNING 1`);
}

// Events given as one JSON array, in one statement; rows keep the array's order (outbox positions
// follow it), which is the order the relay publishes them in.
const outboxRowsFrom = (json: string) => `INSERT INTO outbox (id, type, subject, envelope)
     SELECT e->>'id', e->>'type', e->>'subject', e FROM jsonb_array_elements(${json}::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`;

/** Writes events to the outbox in the caller's transaction: they exist if and only if the change does (rule 2). */
export async function stageEvents(tx: SqlTx, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  noteStagedEvents(tx, events);
  if (events.length === 1) {
    const [e] = events as [EventEnvelope];
    await tx.$executeRawUnsafe('INSERT INTO outbox (id, type, subject, envelope) VALUES ($1, $2, $3, $4::jsonb)', e.id, e.type, e.subject, JSON.stringify(e));
    return;
  }
  // Many in one statement (a bulk change's 1,000 rows, a batch's steps): one round trip.
  await tx.$executeRawUnsafe(outboxRowsFrom('$1'), JSON.stringify(events));
}

export interface OutboxRelayOptions {
  db: SqlClient;
  /** Where the relay's batches run (the driver's own transactions, Database.sql); default `db`. */
  transactions?: TransactionRunner<SqlTx>;
  bus: Bus;
  logger: BusLogger;
  batchSize?: number;
  /** How often to look for rows written by other replicas or left by a crash (ms). */
  pollIntervalMs?: number;
  /** While busy, how long a pass waits for more rows first (BusyLinger; ms, default 0). */
  lingerMs?: number;
  /** Published rows are kept this long for inspection, then deleted. */
  retentionHours?: number;
  /**
   * Inbox rows (handled event ids) are kept this long. A redelivery older than that would be
   * handled again, so it must exceed the longest a broker may hold or redeliver an event.
   */
  inboxRetentionDays?: number;
  onLag?: (pending: number, oldestAgeSeconds: number) => void;
}

class BatchNotPublished extends Error {
  constructor(readonly positions: string[], override readonly cause: unknown) {
    super(`the bus did not take a batch of ${positions.length} events: ${errorReason(cause)}`);
  }
}

// One relay per database publishes at a time (transaction-scoped advisory lock), in write order:
// replicas are safe and per-subject order is kept. Other replicas just find the lock taken.
const RELAY_LOCK = 7_236_521;
const RELAY_BATCH = 200;

/**
 * Publishes committed outbox rows to the bus, at least once. A row is marked published only after
 * the broker confirmed it; a crash between confirm and mark means a duplicate, which consumers'
 * inboxes absorb. `nudge()` after a commit makes the relay publish at once instead of at the next poll.
 */
export class OutboxRelay {
  private lastLagCheck = 0;
  private lastCleanup = 0;
  private readonly tracer = trace.getTracer('@roster/platform/outbox');
  private readonly loop: WorkLoop;

  constructor(private readonly options: OutboxRelayOptions) {
    this.loop = new WorkLoop({
      pass: async () => {
        const published = await this.relayBatch();
        await this.housekeeping();
        return published;
      },
      onFailure: async (error, failures) => {
        this.options.logger.warn({ err: error, failures }, 'outbox relay failed; retrying');
        if (error instanceof BatchNotPublished) await this.recordFailure(error);
        // The lag gauge matters most while the bus refuses: keep it current then too.
        await this.housekeeping().catch(() => undefined);
      },
      pollIntervalMs: options.pollIntervalMs ?? 250,
      // A batch short of full drained the outbox; rows committed since come with a nudge (or, from
      // another replica, with the poll). Each pass that found nothing had cost a transaction.
      fullPass: options.batchSize ?? RELAY_BATCH,
      lingerMs: options.lingerMs ?? 0,
    });
  }

  start(): void {
    this.loop.start();
  }

  nudge(): void {
    this.loop.nudge();
  }

  /** Stops after publishing what is committed (bounded by `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.loop.running) return;
    await this.loop.stop();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await this.relayBatch()) === 0) return;
      } catch (error) {
        this.options.logger.warn({ err: error }, 'outbox flush on shutdown failed');
        return;
      }
    }
  }

  /** Publishes one batch; returns how many rows it published (0 when none or another replica holds the lock). */
  async relayBatch(): Promise<number> {
    const batchSize = this.options.batchSize ?? RELAY_BATCH;
    return (this.options.transactions ?? this.options.db).$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRawUnsafe<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', RELAY_LOCK);
        if (!lock?.locked) return 0;
        // A statement of its own, after the lock: its snapshot then includes what the replica that
        // held the lock last marked published. Read in the statement that takes the lock, rows could
        // come from a snapshot older than that replica's commit, and be published twice.
        const rows = await tx.$queryRawUnsafe<{ position: bigint; envelope: EventEnvelope | string }[]>(
          'SELECT position, envelope FROM outbox WHERE published_at IS NULL ORDER BY position LIMIT $1', batchSize,
        );
        if (rows.length === 0) return 0;
        const events = rows.map((r) => (typeof r.envelope === 'string' ? JSON.parse(r.envelope) : r.envelope) as EventEnvelope);
        try {
          await this.publishTraced(events);
        } catch (error) {
          throw new BatchNotPublished(rows.map((r) => r.position.toString()), error);
        }
        await tx.$executeRawUnsafe(
          'UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE position = ANY($1::bigint[])',
          rows.map((r) => r.position.toString()),
        );
        return rows.length;
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }

  private async publishTraced(events: EventEnvelope[]): Promise<void> {
    // One producer span per batch, in the trace of the batch's first traced event (the request that
    // wrote it) and linked to every request that wrote an event in it. Not a child of the relay's own
    // transaction: that is a database root span, never recorded, and a child of it would not be either.
    const producers = events
      .map((e) => propagation.extract(ROOT_CONTEXT, { traceparent: e.traceparent, tracestate: e.tracestate }))
      .filter((c) => trace.getSpanContext(c) !== undefined);
    const links = producers.map((c) => ({ context: trace.getSpanContext(c)! }));
    await this.tracer.startActiveSpan(
      'outbox publish',
      { kind: SpanKind.PRODUCER, links, attributes: { 'messaging.system': this.options.bus.transport, 'messaging.batch.message_count': events.length } },
      producers[0] ?? ROOT_CONTEXT,
      async (span) => {
        try {
          await this.options.bus.publish(events);
        } finally {
          span.end();
        }
      },
    );
  }

  /** Keeps what went wrong on the rows themselves (attempts, last_error), for an SRE looking at a stuck outbox. */
  private async recordFailure(failure: BatchNotPublished): Promise<void> {
    await this.options.db
      .$executeRawUnsafe(
        'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE position = ANY($1::bigint[])',
        failure.positions, errorReason(failure.cause).slice(0, 1000),
      )
      .catch(() => undefined); // the database may be what failed
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (this.options.onLag && now - this.lastLagCheck > 1_000) {
      this.lastLagCheck = now;
      const [row] = await this.options.db.$queryRawUnsafe<{ pending: bigint | number; oldest: Date | null }[]>(
        'SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
      );
      const oldest = row?.oldest ? (now - new Date(row.oldest).getTime()) / 1000 : 0;
      this.options.onLag(Number(row?.pending ?? 0), Math.max(0, oldest));
    }
    if (now - this.lastCleanup > 60_000) {
      this.lastCleanup = now;
      await this.options.db.$executeRawUnsafe(
        `DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1::int)`, this.options.retentionHours ?? 24,
      );
      await this.options.db.$executeRawUnsafe(
        `DELETE FROM inbox WHERE handled_at < now() - make_interval(days => $1::int)`, this.options.inboxRetentionDays ?? 14,
      );
    }
  }
}
