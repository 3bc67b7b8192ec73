import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, EachBatchPayload, EachMessagePayload, IHeaders, Kafka } from 'kafkajs';
import { errorReason } from './dispatch.js';
import { createClient, SocketTracker, type ClientSettings } from './kafka-client.js';
import type { BusLogger } from './types.js';

/** Group-membership timings: short enough that joins and rebalances take well under a second. */
export interface KafkaConsumerTimings {
  /** The broker's group.min.session.timeout.ms is 6 s by default. */
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Long-poll of a fetch: the latency of an idle consumer. */
  maxWaitTimeMs: number;
  /** How long `start()` waits for the first join before resolving anyway (kafkajs keeps trying). */
  joinTimeoutMs: number;
}

export interface ConsumerRunnerOptions {
  /** A client of its own (its sockets are this runner's to end). */
  client: ClientSettings;
  /** The bus's admin client (offset look-ups). */
  admin: Admin;
  groupId: string;
  topics: readonly string[];
  /**
   * Where a partition that has no committed offset and no pinned start (see `pinStart`) begins:
   * `true` for competing groups (never skip), `false` for broadcast and caches.
   */
  fromBeginning: boolean;
  /**
   * Pin the group's start at the end of the topics as they are when `start()` begins, for the
   * partitions the group has no committed offset for: committed (via `seek`, before anything is
   * fetched) on the first assignment. A new group then sees exactly the events published after
   * it subscribed — like a new durable queue — and a crash or rebalance before its first commit
   * cannot make it skip anything.
   */
  pinStart: boolean;
  /** Partitions handled at once (kafkajs `partitionsConsumedConcurrently`). */
  concurrency: number;
  timings: KafkaConsumerTimings;
  retry: { initialRetryTime: number; maxRetryTime: number; retries: number };
  logger?: BusLogger | undefined;
  /** Health signals for the bus. */
  onHealth(ok: boolean): void;
  /** Handles one record; throwing leaves it uncommitted (it comes again). */
  handle(payload: EachMessagePayload, runner: ConsumerRunner): Promise<void>;
  /**
   * When given, records come a fetched batch per partition at a time (kafkajs `eachBatch`): it
   * resolves the offset of each record it handled; throwing leaves the unresolved ones uncommitted.
   */
  handleBatch?(payload: EachBatchPayload, runner: ConsumerRunner): Promise<void>;
}

type Floors = Map<string, Map<number, string>>;

const STUCK_AFTER_MS = 60_000;

/** Thrown out of `eachMessage` when the subscription closes: the record stays uncommitted. */
const closingError = () => new kafkajs.KafkaJSError('subscription closing: record left uncommitted', { retriable: true });

/**
 * One kafkajs consumer for one subscription, kept alive: after any crash (an outage makes kafkajs
 * give up at once: "no broker available") a new consumer replaces it, and a watchdog replaces
 * one that stopped fetching without crashing. `eachMessage` runs partitions concurrently
 * and each partition's records one after the other, and kafkajs commits a record's offset only
 * after `eachMessage` returned for it (autoCommit resolves offsets after the callback; commits
 * happen after each batch and before a rebalance), so nothing unhandled is ever committed.
 */
export class ConsumerRunner {
  private readonly sockets = new SocketTracker();
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private closing = false;
  private readonly abort = new AbortController();
  private readonly floors: Floors = new Map();
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];
  private crashed = false;
  /**
   * `start()` resolves after the join and, if a start was pinned, after the fetch that follows
   * the pin (the one that commits the seek): the 2nd completed fetch after it, since the 1st may
   * have begun before the pin was in place.
   */
  private readyWaiter: { resolve: () => void; pinning: boolean; assigned: boolean; fetchesNeeded: number } | null = null;
  private recreating: Promise<void> | null = null;
  private restartPending = false;
  private lastActivity = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  private launching: Promise<void> | null = null;
  private crashes = 0;

  constructor(private readonly options: ConsumerRunnerOptions) {
    this.kafka = createClient(options.client, this.sockets);
  }

  get healthy(): boolean {
    return !this.crashed && !this.closing;
  }

  /** Resolves once the consumer has joined its group, got its partitions and fetched once. */
  async start(): Promise<void> {
    if (this.options.pinStart) await this.computeFloors();
    const ready = new Promise<void>((resolve) => {
      this.readyWaiter = { resolve, pinning: false, assigned: false, fetchesNeeded: 1 };
    });
    this.launching = this.launch();
    this.watchdog = setInterval(() => this.checkAlive(), 10_000).unref();
    const timeout = sleep(this.options.timings.joinTimeoutMs, 'timeout' as const, { signal: this.abort.signal, ref: false })
      .catch(() => 'closed' as const);
    const outcome = await Promise.race([ready.then(() => 'ready' as const), timeout]);
    if (outcome === 'timeout') {
      this.options.logger?.warn({ groupId: this.options.groupId }, 'kafka consumer has not joined its group yet; it keeps trying');
    }
  }

  /** Waits `ms` while keeping the group membership alive; throws when the subscription closes. */
  async wait(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      this.throwIfClosing();
      const left = until - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(left, this.options.timings.heartbeatIntervalMs), undefined, { signal: this.abort.signal }).catch(() => undefined);
      this.throwIfClosing();
      await heartbeat(); // a rebalance error propagates: kafkajs rejoins, the record stays uncommitted
    }
  }

  throwIfClosing(): void {
    if (this.closing) throw closingError();
  }

  /** Stops fetching, lets the handler in flight finish, commits what was handled, leaves the group. */
  async close(): Promise<void> {
    if (this.closing) return;
    const started = Date.now();
    this.closing = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.abort.abort(); // retry waits end: their records stay uncommitted
    this.readyWaiter?.resolve();
    // kafkajs' `disconnect()` cannot stop a consumer that is still joining its group (its runner
    // is not "running" yet and goes on afterwards): wait for every start in progress (each sees
    // `closing` and stops its consumer), then disconnect once more.
    const graceful = (async () => {
      for (let round = 0; round < 5; round++) {
        await this.consumer?.disconnect().catch(() => undefined);
        const launching = this.launching;
        const recreating = this.recreating;
        await launching;
        await recreating;
        if (launching === this.launching && recreating === this.recreating) break;
      }
      await this.consumer?.disconnect().catch(() => undefined);
    })();
    // The handlers in flight finish; after that, a join waiting on the coordinator (up to a
    // session timeout) is cut short by closing the sockets under it.
    const handlersDone = () => (this.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => this.idle.push(r)));
    const grace = handlersDone().then(() => sleep(2_000, undefined, { ref: false }));
    if ((await Promise.race([graceful.then(() => 'done' as const), grace])) !== 'done') {
      this.sockets.destroyAll(true);
      await Promise.race([graceful, sleep(3_000, undefined, { ref: false })]);
    }
    this.sockets.destroyAll(true);
    await handlersDone();
    this.options.logger?.debug({ groupId: this.options.groupId, ms: Date.now() - started }, 'kafka consumer closed');
  }

  private async computeFloors(): Promise<void> {
    const { admin, groupId, topics } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        this.floors.clear();
        const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
        for (const { topic, partitions } of committed) {
          const missing = partitions.filter((p) => Number(p.offset) < 0).map((p) => p.partition);
          if (missing.length === 0) continue;
          const ends = await admin.fetchTopicOffsets(topic);
          const byPartition = new Map<number, string>();
          for (const p of missing) byPartition.set(p, ends.find((e) => e.partition === p)?.high ?? '0');
          this.floors.set(topic, byPartition);
        }
        return;
      } catch (error) {
        if (this.closing) return;
        if (attempt >= 5) {
          // Without a pinned start, the group falls back to `fromBeginning` (never skips).
          this.options.logger?.warn({ groupId, err: errorReason(error) }, 'kafka: could not read the group offsets to pin its start');
          this.floors.clear();
          return;
        }
        await sleep(200 * attempt);
      }
    }
  }

  private async launch(): Promise<void> {
    const { groupId, topics, fromBeginning, concurrency, timings, retry, logger } = this.options;
    const kafka = this.kafka;
    for (let attempt = 1; !this.closing; attempt++) {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: timings.sessionTimeoutMs,
        rebalanceTimeout: timings.rebalanceTimeoutMs,
        heartbeatInterval: timings.heartbeatIntervalMs,
        maxWaitTimeInMs: timings.maxWaitTimeMs,
        allowAutoTopicCreation: false,
        // kafkajs' own restart reuses the consumer object, which `close()` cannot always stop
        // (see there): every crash is handled by `scheduleRestart()` instead.
        retry: { ...retry, restartOnFailure: async () => false },
      });
      this.consumer = consumer;
      this.lastActivity = Date.now();
      this.listen(consumer);
      try {
        await consumer.connect();
        if (this.closing) break;
        await consumer.subscribe({ topics: [...topics], fromBeginning });
        if (this.closing) break;
        const { handleBatch } = this.options;
        await consumer.run({
          partitionsConsumedConcurrently: concurrency,
          ...(handleBatch
            ? { eachBatchAutoResolve: false, eachBatch: (payload: EachBatchPayload) => this.inFlightWhile(() => handleBatch(payload, this)) }
            : { eachMessage: (payload: EachMessagePayload) => this.inFlightWhile(() => this.options.handle(payload, this)) }),
        });
        return;
      } catch (error) {
        this.crashed = true;
        this.options.onHealth(false);
        await consumer.disconnect().catch(() => undefined);
        if (this.closing) return;
        logger?.warn({ groupId, err: errorReason(error), attempt }, 'kafka consumer could not start; retrying');
        await sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private listen(consumer: Consumer): void {
    const { events } = consumer;
    // A consumer that was replaced (or whose subscription closed) while it was still joining
    // comes to life afterwards (see `close()`): stop it as soon as it shows itself.
    const stopIfStale = () => {
      const stale = this.closing || consumer !== this.consumer;
      if (stale) void consumer.disconnect().catch(() => undefined);
      return stale;
    };
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      if (stopIfStale()) return;
      this.lastActivity = Date.now();
      this.crashed = false;
      this.crashes = 0;
      this.options.onHealth(true);
      this.onJoin(consumer, payload.memberAssignment);
    });
    consumer.on(events.FETCH_START, () => void stopIfStale());
    consumer.on(events.FETCH, () => {
      this.lastActivity = Date.now();
      this.crashed = false;
      this.options.onHealth(true);
      const waiter = this.readyWaiter;
      if (waiter?.assigned && !waiter.pinning && --waiter.fetchesNeeded <= 0) this.ready();
    });
    consumer.on(events.CRASH, ({ payload }) => {
      if (this.closing) return;
      this.crashed = true;
      this.options.onHealth(false);
      this.options.logger?.warn({ groupId: this.options.groupId, err: errorReason(payload.error) }, 'kafka consumer crashed; restarting it');
      this.scheduleRestart(consumer);
    });
  }

  /**
   * A live consumer fetches (long polls of `maxWaitTimeMs`) all the time. One that has neither
   * fetched nor joined for a minute, while no restart is under way, is stuck in a state this
   * adapter does not know of: replace it.
   */
  private checkAlive(): void {
    const consumer = this.consumer;
    if (this.closing || this.restartPending || !consumer || Date.now() - this.lastActivity < STUCK_AFTER_MS) return;
    this.crashed = true;
    this.options.onHealth(false);
    this.options.logger?.warn({ groupId: this.options.groupId }, 'kafka consumer has not fetched for a minute; replacing it');
    this.lastActivity = Date.now();
    this.scheduleRestart(consumer);
  }

  /**
   * Replaces a crashed consumer (kafkajs has disconnected it) with a new one, after a backoff.
   * A crash of the new one while it starts (e.g. "the coordinator is loading" just after a broker
   * restart) schedules the next replacement: only the wait is exclusive, not the start.
   */
  private scheduleRestart(old: Consumer): void {
    if (this.restartPending || this.consumer !== old || this.closing) return;
    this.restartPending = true;
    const delay = Math.min(5_000, this.options.retry.initialRetryTime * 2 ** Math.min(this.crashes++, 6));
    const restart: Promise<void> = (async () => {
      try {
        await old.disconnect().catch(() => undefined);
        await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
      } finally {
        this.restartPending = false;
      }
      if (this.closing) return;
      this.launching = this.launch();
      await this.launching;
    })().finally(() => {
      if (this.recreating === restart) this.recreating = null;
    });
    this.recreating = restart;
  }

  /**
   * On every assignment: partitions with a pinned start and still no committed offset are paused,
   * checked and sought to their start (kafkajs commits the seek before its next fetch), then
   * resumed. Runs synchronously inside the join, before anything is fetched.
   */
  private onJoin(consumer: Consumer, assignment: Record<string, number[]>): void {
    const pending: { topic: string; partition: number; offset: string }[] = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      const floors = this.floors.get(topic);
      for (const partition of partitions) {
        const offset = floors?.get(partition);
        if (offset !== undefined) pending.push({ topic, partition, offset });
      }
    }
    const waiter = this.readyWaiter;
    if (waiter) waiter.assigned = true;
    if (pending.length === 0) {
      if (waiter && Object.values(assignment).every((p) => p.length === 0)) this.ready();
      return;
    }
    const byTopic = (list: typeof pending) =>
      [...new Set(list.map((p) => p.topic))].map((topic) => ({
        topic, partitions: list.filter((p) => p.topic === topic).map((p) => p.partition),
      }));
    consumer.pause(byTopic(pending));
    if (waiter) waiter.pinning = true;
    void (async () => {
      try {
        const committed = await this.options.admin.fetchOffsets({
          groupId: this.options.groupId, topics: [...new Set(pending.map((p) => p.topic))],
        });
        for (const p of pending) {
          const current = committed.find((t) => t.topic === p.topic)?.partitions.find((x) => x.partition === p.partition);
          if (current === undefined || Number(current.offset) < 0) consumer.seek(p);
          this.floors.get(p.topic)?.delete(p.partition);
        }
      } catch (error) {
        this.options.logger?.warn({ groupId: this.options.groupId, err: errorReason(error) }, 'kafka: could not pin the group start');
      } finally {
        try {
          consumer.resume(byTopic(pending));
        } catch {
          // the consumer stopped meanwhile
        }
        if (waiter) Object.assign(waiter, { pinning: false, fetchesNeeded: 2 });
      }
    })();
  }

  private ready(): void {
    const waiter = this.readyWaiter;
    this.readyWaiter = null;
    waiter?.resolve();
  }

  private async inFlightWhile(handle: () => Promise<void>): Promise<void> {
    this.throwIfClosing();
    this.inFlight++;
    try {
      await handle();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
    }
  }
}

/** kafkajs header values (Buffer, string or a list of them) as one string each. */
export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined || last === null) continue;
    out[key] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return out;
}
