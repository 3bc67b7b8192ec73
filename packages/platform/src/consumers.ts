import { context, type Context } from '@opentelemetry/api';
import type { EventEnvelope, EventOf, EventType, RosterEvent, ServiceName } from '@roster/contracts';
import type { BusLogger, SubscriptionOptions } from './bus/types.js';
import { currentWork, runInWork, type WorkContext } from './context.js';
import type { SqlTx } from './db/database.js';
import type { TransactionRunner } from './db/sql.js';
import { BusyLinger } from './linger.js';
import { eventsStagedIn, stageEvents } from './outbox.js';
import { stepEventOf, type CascadeStep } from './steps.js';

/**
 * The one consumer model (issue 19): a service declares what each consumed event type does (its
 * effect); the platform takes deliveries in batches, and per batch opens one transaction, claims
 * the inbox for every event with one statement (rule 2), runs the effects in delivery order, each
 * in its event's work and trace context, records the cascade steps they report (B4) and stages
 * what they emit (rule 9), commits, and only then lets the bus acknowledge the deliveries.
 */

/** What an effect did, reported as the service's cascade step for its event (B4). */
export interface EffectReport {
  step: string;
  counts: Record<string, number>;
  /** Default: `applied` when a count is above zero, else `no_change`. */
  outcome?: CascadeStep['outcome'];
  detail?: string | null;
  dryRun?: boolean;
}

export interface EventHandling<Tx extends SqlTx> {
  /** The batch's transaction: everything an effect writes commits with its inbox claim, or not at all. */
  tx: Tx;
  /** When the platform began this event's work (a step's duration). */
  startedAt: number;
  /** Runs `fn` once the batch committed (for example identity's local revocation). */
  afterCommit(fn: () => void): void;
  /**
   * Runs `fn` in `event`'s own work and trace context: a batch effect whose events stage
   * follow-ups of their own (a person cascade's) runs each event's part in it, so that what it
   * stages carries that event's correlation, causation and trace.
   */
  within<R>(event: RosterEvent, fn: () => Promise<R>): Promise<R>;
}

/** What one event type does in a service: null or nothing when there is no step to report. */
export type Effect<Tx extends SqlTx, E extends RosterEvent> = (event: E, handling: EventHandling<Tx>) => Promise<EffectReport | null | void>;

/**
 * What a run of consecutive events of one type in a batch does, with set-based statements (one
 * upsert for 64 memberships instead of 64): one report per event, in the order given. It runs in
 * the first event's work and trace context, so events it stages must name their cause themselves.
 */
export interface BatchEffect<Tx extends SqlTx, E extends RosterEvent> {
  readonly batch: (events: readonly E[], handling: EventHandling<Tx>) => Promise<readonly (EffectReport | null | void)[]>;
}

/** Declares a set-based effect (see BatchEffect). */
export const inBatches = <Tx extends SqlTx, E extends RosterEvent>(batch: BatchEffect<Tx, E>['batch']): BatchEffect<Tx, E> => ({ batch });

/** A set-based write (a projection of a run of events) that reports no cascade step. */
export const inBatchesWithoutStep = <Tx extends SqlTx, E extends RosterEvent>(write: (tx: Tx, events: readonly E[]) => Promise<unknown>): BatchEffect<Tx, E> =>
  inBatches(async (events, { tx }) => {
    await write(tx, events);
    return [];
  });

export type EffectMap<Tx extends SqlTx> = { [T in EventType]?: Effect<Tx, EventOf<T>> | BatchEffect<Tx, EventOf<T>> };

/** An effect that only writes (a projection, an audit line) and reports no cascade step of its own. */
export const withoutStep = <Tx extends SqlTx, E extends RosterEvent>(write: (tx: Tx, event: E) => Promise<unknown>): Effect<Tx, E> =>
  async (event, { tx }) => {
    await write(tx, event);
  };

export interface Consumers<Tx extends SqlTx> {
  service: ServiceName;
  /** Effects that need the service's own transaction client (Prisma models). */
  effects?: EffectMap<Tx>;
  /**
   * Effects that only run SQL: their batches run in transactions on the database driver itself
   * (Database.sql), without Prisma's interactive-transaction machinery, the largest library share
   * of Node's CPU on the consumers' paths.
   */
  sqlEffects?: EffectMap<SqlTx>;
  /**
   * After every committed batch, besides the relay's nudge, with the batch's (committed) transaction
   * for what a service noted on it (notifications: were messages queued in it? then wake the sender).
   */
  onCommitted?(tx: Tx): void;
}

export interface ConsumerRuntime<Tx extends SqlTx> {
  /** Transactions for `effects`. */
  db: TransactionRunner<Tx>;
  /** Transactions for `sqlEffects` (default `db`: a service's transaction client runs SQL too). */
  sql?: TransactionRunner<SqlTx>;
  relay: { nudge(): void };
  logger: BusLogger;
  /** Events per transaction, at most (default 64). */
  maxBatch?: number;
  /** While the consumer is busy, how long a batch short of full waits for more deliveries (BusyLinger; ms, default 0). */
  lingerMs?: number;
}

interface Waiting {
  event: RosterEvent;
  work: WorkContext | undefined;
  trace: Context;
  resolve(): void;
  reject(error: unknown): void;
}

/** Large cascades (100,000 visits) take seconds: Prisma's default 5 s transaction timeout is too tight. */
const TX_OPTIONS = { timeout: 120_000, maxWait: 10_000 } as const;

/**
 * Group commit: a delivery waits for the transaction in progress, then goes with every delivery
 * that arrived meanwhile (up to `maxBatch`) in the next one. An idle consumer commits a lone event
 * at once; a busy one first lingers for more (BusyLinger). One transaction at a time per
 * consumer: batches never contend with each other for the rows they share.
 */
export class BatchingConsumer<Tx extends SqlTx> {
  private readonly waiting: Waiting[] = [];
  private running = false;
  private readonly maxBatch: number;
  private readonly linger: BusyLinger;

  constructor(private readonly consumers: Consumers<Tx>, private readonly runtime: ConsumerRuntime<Tx>) {
    this.maxBatch = runtime.maxBatch ?? 64;
    this.linger = new BusyLinger(runtime.lingerMs ?? 0);
    const both = Object.keys(consumers.effects ?? {}).filter((type) => type in (consumers.sqlEffects ?? {}));
    if (both.length > 0) throw new Error(`${consumers.service}: ${both.join(', ')} has an effect in both effects and sqlEffects`);
  }

  get types(): EventType[] {
    return [...Object.keys(this.consumers.effects ?? {}), ...Object.keys(this.consumers.sqlEffects ?? {})] as EventType[];
  }

  private isSql(event: RosterEvent): boolean {
    return this.consumers.sqlEffects?.[event.type] !== undefined;
  }

  /** The bus's handler: resolves once the event's batch committed, rejects with the event's own error. */
  readonly handle = (event: RosterEvent): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.waiting.push({ event, work: currentWork(), trace: context.active(), resolve, reject });
      if (!this.running) {
        this.running = true;
        // Deliveries read from the same socket chunk arrive in the same turn: let them join.
        setImmediate(() => void this.drain());
      }
    });

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        await this.linger.beforeBatch(this.waiting.length >= this.maxBatch);
        const batch = this.waiting.splice(0, this.maxBatch);
        // Runs of consecutive events for the same kind of transaction, committed in delivery order.
        const failedSubjects = new Set<string>();
        for (let i = 0; i < batch.length;) {
          let j = i + 1;
          while (j < batch.length && this.isSql(batch[j]!.event) === this.isSql(batch[i]!.event)) j++;
          await this.commitBatch(batch.slice(i, j), failedSubjects);
          i = j;
        }
      }
    } finally {
      this.running = false;
      // commitBatch settles every delivery it took and does not throw; should it ever, what waits is not left behind.
      if (this.waiting.length > 0) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  /**
   * The batch in one transaction; when it fails, each event in a transaction of its own, in order,
   * so that one poison event is retried or dead-lettered alone and the others commit; later events
   * about the poison event's subject are handed back with it, to come again after it (rule 3).
   */
  private async commitBatch(all: Waiting[], failedSubjects: Set<string>): Promise<void> {
    const subjectOf = (w: Waiting) => `${w.event.tenantid}/${w.event.subject}`;
    const handBack = (w: Waiting) =>
      w.reject(new Error(`not applied yet: an earlier event about ${w.event.subject} in the same batch failed, and a subject's events apply in order`));
    const batch: Waiting[] = [];
    for (const w of all) {
      if (failedSubjects.has(subjectOf(w))) handBack(w);
      else batch.push(w);
    }
    if (batch.length === 0) return;
    try {
      await this.apply(batch);
      for (const w of batch) w.resolve();
      return;
    } catch (error) {
      if (batch.length === 1) {
        failedSubjects.add(subjectOf(batch[0]!));
        batch[0]!.reject(error);
        return;
      }
      this.runtime.logger.warn({ size: batch.length, err: error instanceof Error ? error.message : String(error) }, 'batch failed; applying its events one by one');
    }
    // Rule 3: once an event about a subject failed, the later ones about it wait for its retry.
    for (const w of batch) {
      if (failedSubjects.has(subjectOf(w))) {
        handBack(w);
        continue;
      }
      try {
        await this.apply([w]);
        w.resolve();
      } catch (error) {
        failedSubjects.add(subjectOf(w));
        w.reject(error);
      }
    }
  }

  /**
   * Applies events of one kind (all `sqlEffects` or all `effects`) in one transaction; after commit,
   * runs their after-commit work and nudges the relay when they staged events.
   */
  private async apply(batch: readonly Waiting[]): Promise<void> {
    const after: (() => void)[] = [];
    const runner = this.isSql(batch[0]!.event) ? (this.runtime.sql ?? this.runtime.db) : this.runtime.db;
    let committed: Tx | undefined;
    await (runner as TransactionRunner<Tx>).$transaction(async (tx) => {
      committed = tx;
      const claimed = await claimInboxBatch(tx, this.consumers.service, batch.map((w) => w.event));
      // Handled before, or twice in this batch: not applied again.
      const fresh = batch.filter((w) => claimed.delete(w.event.id));
      const steps: EventEnvelope[] = [];
      for (let i = 0; i < fresh.length;) {
        const first = fresh[i]!;
        const effect = this.effectOf(first.event);
        let j = i + 1;
        if (effect && 'batch' in effect) while (j < fresh.length && fresh[j]!.event.type === first.event.type) j++;
        const run = fresh.slice(i, j);
        await context.with(first.trace, () => runInWork(first.work ?? workOf(first.event), async () => {
          if (!effect) return;
          const startedAt = performance.now();
          const handling: EventHandling<Tx> = {
            tx, startedAt, afterCommit: (fn) => after.push(fn),
            within: (event, fn) => {
              const w = run.find((x) => x.event === event);
              return w ? context.with(w.trace, () => runInWork(w.work ?? workOf(w.event), fn)) : fn();
            },
          };
          const reports = 'batch' in effect ? await effect.batch(run.map((w) => w.event), handling) : [await effect(first.event, handling)];
          run.forEach((w, k) => {
            const report = reports[k];
            // In the event's own work and trace context: the step's causation and traceparent are its event's.
            if (report) steps.push(context.with(w.trace, () => runInWork(w.work ?? workOf(w.event), () => this.stepOf(tx, w.event, report, startedAt))));
          });
        }));
        i = j;
      }
      // Every step of the batch in one statement, after the effects whose follow-ups they name.
      await stageEvents(tx, steps);
    }, TX_OPTIONS);
    // A batch that staged nothing leaves the relay alone: a relay pass that finds nothing is a transaction.
    if (eventsStagedIn(committed!).length > 0) this.runtime.relay.nudge();
    this.consumers.onCommitted?.(committed!);
    for (const fn of after) {
      try {
        fn();
      } catch (error) {
        this.runtime.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'after-commit work failed');
      }
    }
  }

  private effectOf(event: RosterEvent): Effect<Tx, RosterEvent> | BatchEffect<Tx, RosterEvent> | undefined {
    return (this.consumers.sqlEffects?.[event.type] ?? this.consumers.effects?.[event.type]) as Effect<Tx, RosterEvent> | BatchEffect<Tx, RosterEvent> | undefined;
  }

  private stepOf(tx: Tx, event: RosterEvent, report: EffectReport, startedAt: number): EventEnvelope {
    const touched = Object.values(report.counts).some((n) => n > 0);
    return stepEventOf(tx, {
      service: this.consumers.service, step: report.step, outcome: report.outcome ?? (touched ? 'applied' : 'no_change'),
      counts: report.counts, detail: report.detail ?? null, startedAt, cause: event, ...(report.dryRun ? { dryRun: true } : {}),
    });
  }
}

const workOf = (event: RosterEvent): WorkContext => ({ correlationId: event.correlationid, causationId: event.id, tenantId: event.tenantid });

/**
 * Claims `events` for `consumer` in one statement, in the batch's transaction (rule 2). Returns the
 * ids claimed now: an id handled before (or a second copy in the same batch) is not among them.
 */
export async function claimInboxBatch(tx: SqlTx, consumer: string, events: readonly RosterEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = await tx.$queryRawUnsafe<{ event_id: string }[]>(
    `INSERT INTO inbox (consumer, event_id, type)
     SELECT $1, e.id, e.type FROM unnest($2::text[], $3::text[]) AS e(id, type)
     ON CONFLICT DO NOTHING RETURNING event_id`,
    consumer, events.map((e) => e.id), events.map((e) => e.type),
  );
  return new Set(rows.map((r) => r.event_id));
}

/** The service's one competing subscription (the group is the service's name). */
export function subscriptionOf<Tx extends SqlTx>(consumer: BatchingConsumer<Tx>): Omit<SubscriptionOptions, 'group'> {
  return { types: consumer.types, handler: consumer.handle, concurrency: 64 };
}
