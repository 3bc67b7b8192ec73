import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { catalogue, EVENT_TYPES, type EventEnvelope } from '@roster/contracts';
import type { Admin, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage, Message } from 'kafkajs';
import { encode } from './codec.js';
import { deliver, errorReason, identify } from './dispatch.js';
import { createClient, SocketTracker, type ClientSettings } from './kafka-client.js';
import { KafkaDeadLetterDepth } from './kafka-dead-letter-depth.js';
import { ConsumerRunner, headerStrings, type KafkaConsumerTimings } from './kafka-consumer.js';
import { beforeDeadline, KafkaSender, type TopicMessages } from './kafka-producer.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  type Bus,
  type BusLogger,
  type BusObserver,
  type BusOptions,
  type DeadLetter,
  type RawMessage,
  type Subscription,
  type SubscriptionOptions,
} from './types.js';

export interface KafkaBusOptions extends BusOptions {
  /** `host:port` of the bootstrap brokers. */
  brokers: string[];
  /** Partitions of the topics this bus creates (default 3). Existing topics are left as they are. */
  partitions?: number;
  /** How long `publish()` waits for the broker (an outage) before it fails. Default 60 s. */
  publishTimeoutMs?: number;
  /** Group-membership timings (defaults in `DEFAULT_TIMINGS`). */
  timings?: Partial<KafkaConsumerTimings>;
}

export const DEFAULT_TIMINGS: KafkaConsumerTimings = {
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 15_000,
  heartbeatIntervalMs: 500,
  maxWaitTimeMs: 100,
  joinTimeoutMs: 30_000,
};

/** Consumer retries: a consumer that cannot reach the broker crashes (and is recreated) after ~15 s. */
const CONSUMER_RETRY = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 10 };

const DEAD = { reason: 'roster_dead_reason', group: 'roster_dead_group', attempts: 'roster_dead_attempts', at: 'roster_dead_at' } as const;
const DEAD_HEADERS = new Set<string>(Object.values(DEAD));

/**
 * Kafka adapter (rule 6), kafkajs.
 *
 * - Topics: one per event family, `<namespace>.<family>` (`roster.user` ...), created on connect
 *   for every family of the catalogue (and on demand for others), plus `<namespace>.dead-letter`.
 *   Records are keyed by the subject (one partition per subject: per-subject order, rule 3) and
 *   carry the CloudEvents Kafka binding's `ce_` headers (binary mode, codec 'kafka').
 * - Consumer groups: `<namespace>.<group>` for competing instances; a broadcast subscription gets
 *   a group of its own, `<namespace>.<group>.<instanceId>.<random>`, deleted when it closes.
 *   Records of another type of the same family are skipped (and committed past).
 * - Start position: a new group sees the events published after it subscribed, like a new durable
 *   queue on RabbitMQ (and as the contract suite expects: its tests share one namespace, so a new
 *   group reading the topics from their beginning would also get every earlier test's events).
 *   `subscribe()` pins that start as committed offsets before the first fetch (see
 *   `ConsumerRunner`), so a crash or a rebalance before the group's first commit skips nothing;
 *   a partition without any offset falls back to its beginning for competing groups.
 * - Failures: retried in-process on the partition with backoff (its order is kept: nothing behind
 *   the failing record is handled meanwhile), then produced to the dead-letter topic (acks from
 *   all replicas) before the record's offset is committed. Offsets are committed only for
 *   records whose `eachMessage` returned.
 * - `subscribe()` resolves once the consumer has joined its group and fetched with its partitions
 *   (a second competing instance: once the rebalance that its join caused is over), so callers
 *   need no settling time.
 */
export class KafkaBus implements Bus {
  readonly transport = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly probeAdmin: Admin;
  private readonly sender: KafkaSender;
  private readonly namespace: string;
  private readonly instanceId: string;
  private readonly partitions: number;
  private readonly timings: KafkaConsumerTimings;
  private readonly observer: BusObserver | undefined;
  private readonly logger: BusLogger | undefined;
  private readonly topics = new Set<string>();
  /** Open subscriptions, with the broadcast group to delete when they end. */
  private readonly runners = new Map<ConsumerRunner, string | null>();
  private readonly client: ClientSettings;
  private readonly sockets = new SocketTracker();
  private readonly probeSockets = new SocketTracker();
  private readonly deadLetterDepths: KafkaDeadLetterDepth;
  private probeRun: Promise<void> | null = null;
  private connecting: Promise<void> | null = null;
  private connected = false;
  private closed = false;
  private lastOk = 0;
  private lastFailure = 0;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Ends the bus's own waits (connection and admin retries) when it closes. */
  private readonly stop = new AbortController();

  constructor(options: KafkaBusOptions) {
    this.namespace = options.namespace ?? 'roster';
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
    this.partitions = options.partitions ?? 3;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.observer = options.observer;
    this.logger = options.logger;
    this.client = { brokers: options.brokers, clientId: `${this.namespace}.${this.instanceId}`, logger: options.logger };
    this.kafka = createClient(this.client, this.sockets);
    this.admin = this.kafka.admin();
    this.probeAdmin = createClient({ ...this.client, clientId: `${this.client.clientId}.probe` }, this.probeSockets)
      .admin({ retry: { retries: 0 } });
    this.sender = new KafkaSender({
      kafka: this.kafka,
      logger: this.logger,
      timeoutMs: options.publishTimeoutMs ?? 60_000,
      prepare: async (topics) => {
        await this.connect();
        await this.ensureTopics(topics);
      },
      onHealth: (ok) => this.signal(ok),
    });
    this.deadLetterDepths = new KafkaDeadLetterDepth({
      admin: this.admin, client: this.client, namespace: this.namespace, instanceId: this.instanceId,
      topic: this.deadLetterTopic, groupHeader: DEAD.group, timings: this.timings, retry: CONSUMER_RETRY, logger: this.logger,
    });
  }

  /** Topic of an event type: `<namespace>.<family>`. */
  topicOf(type: string): string {
    const family = (catalogue as Record<string, { family: string } | undefined>)[type]?.family ?? type.split('.')[0];
    return `${this.namespace}.${family}`;
  }

  get deadLetterTopic(): string {
    return `${this.namespace}.dead-letter`;
  }

  connect(): Promise<void> {
    this.connecting ??= this.connectLoop();
    return this.connecting;
  }

  isHealthy(): boolean {
    if (this.closed || !this.connected) return false;
    if (this.lastFailure > this.lastOk) return false;
    for (const runner of this.runners.keys()) if (!runner.healthy) return false;
    return true;
  }

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const event of events) {
      const topic = this.topicOf(event.type);
      const { headers, body } = encode(event, 'kafka');
      const messages = byTopic.get(topic);
      if (messages) messages.push({ key: event.subject, value: body, headers });
      else byTopic.set(topic, [{ key: event.subject, value: body, headers }]);
    }
    await this.send([...byTopic].map(([topic, messages]) => ({ topic, messages })), false);
    for (const event of events) this.observer?.published?.(event.type);
  }

  async publishRaw(routingType: string, subject: string, message: RawMessage): Promise<void> {
    const topic = this.topicOf(routingType);
    await this.send([{ topic, messages: [{ key: subject, value: message.body, headers: message.headers }] }], false);
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    if (this.closed) throw new Error('kafka bus is closed');
    await this.connect();
    const broadcast = options.delivery === 'broadcast';
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    const types = new Set(options.types);
    const topics = [...new Set(options.types.map((t) => this.topicOf(t)))];
    await this.retrying('create topics', () => this.ensureTopics(topics));
    const groupId = broadcast
      ? `${this.namespace}.${options.group}.${this.instanceId}.${randomUUID().slice(0, 8)}`
      : `${this.namespace}.${options.group}`;
    const { group, handler } = options;

    /** Ours to deliver: null for another type of the same family. A record without a type is delivered so that `deliver()` dead-letters it as malformed. */
    const ours = (message: KafkaMessage): RawMessage | null => {
      const headers = headerStrings(message.headers);
      const type = headers['ce_type'];
      if (type && !types.has(type)) return null;
      return { headers, body: message.value?.toString('utf8') ?? '' };
    };
    const attemptOnce = (raw: RawMessage, attempt: number) =>
      deliver(raw, 'kafka', handler, { transport: 'kafka', attempt, group }, retry.maxAttempts, this.observer);
    /** One record until it is handled or dead-lettered, retrying with backoff (the partition waits: rule 3). */
    const settle = async (raw: RawMessage, heartbeat: () => Promise<void>, runner: ConsumerRunner, firstAttempt = 1): Promise<void> => {
      for (let attempt = firstAttempt; ; attempt++) {
        runner.throwIfClosing();
        const outcome = await this.keepAlive(heartbeat, () => attemptOnce(raw, attempt));
        if (outcome.kind === 'handled') return;
        if (outcome.kind === 'dead') return this.deadLetter(group, raw, outcome.reason, attempt);
        await runner.wait(backoffDelay(retry, attempt), heartbeat);
      }
    };
    const handle = async ({ message, heartbeat }: EachMessagePayload, runner: ConsumerRunner) => {
      const raw = ours(message);
      if (raw) await settle(raw, heartbeat, runner);
    };
    /**
     * A fetched batch of one partition (issue 19): every record handed over at once, so that the
     * service's consumer commits them together; offsets resolved in order up to the first record
     * that failed, and from there one record at a time as `handle` does (the ones already applied
     * are in the service's inbox: applying them again changes nothing).
     */
    const handleBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload, runner: ConsumerRunner) => {
      runner.throwIfClosing();
      const records = batch.messages.map((message) => ({ offset: message.offset, raw: ours(message) }));
      const first = await this.keepAlive(heartbeat, () =>
        Promise.all(records.map((r) => (r.raw ? attemptOnce(r.raw, 1) : Promise.resolve({ kind: 'handled' } as const)))));
      let i = 0;
      for (; i < records.length; i++) {
        const outcome = first[i]!;
        if (outcome.kind === 'retry') break;
        if (outcome.kind === 'dead') await this.deadLetter(group, records[i]!.raw!, outcome.reason, 1);
        resolveOffset(records[i]!.offset);
      }
      if (i < records.length) await runner.wait(backoffDelay(retry, 1), heartbeat);
      for (let j = i; j < records.length; j++) {
        if (!isRunning() || isStale()) return;
        const { raw, offset } = records[j]!;
        if (raw) await settle(raw, heartbeat, runner, j === i ? 2 : 1);
        resolveOffset(offset);
        await heartbeat();
      }
    };

    return this.startRunner({
      groupId, topics,
      // Competing: a partition the group has no offset for (and no pinned start) is read from its
      // beginning, so nothing is ever skipped. Broadcast (caches): from the end.
      fromBeginning: !broadcast,
      pinStart: true,
      concurrency: options.concurrency ?? 3,
      handle,
      handleBatch,
      deleteGroupOnClose: broadcast,
    });
  }

  async consumeDeadLetters(group: string, handler: (deadLetter: DeadLetter) => Promise<void>): Promise<Subscription> {
    if (this.closed) throw new Error('kafka bus is closed');
    await this.connect();
    const handle = async ({ message, heartbeat }: EachMessagePayload, runner: ConsumerRunner) => {
      const all = headerStrings(message.headers);
      if (all[DEAD.group] !== group) return;
      const headers = Object.fromEntries(Object.entries(all).filter(([k]) => !DEAD_HEADERS.has(k)));
      const original: RawMessage = { headers, body: message.value?.toString('utf8') ?? '' };
      const { id, type } = identify(original, 'kafka');
      const deadLetter: DeadLetter = {
        group,
        reason: all[DEAD.reason] ?? '',
        attempts: Number(all[DEAD.attempts] ?? 0),
        deadAt: all[DEAD.at] ?? new Date(Number(message.timestamp)).toISOString(),
        eventId: id,
        eventType: type,
        message: original,
      };
      for (let attempt = 1; ; attempt++) {
        runner.throwIfClosing();
        try {
          return await this.keepAlive(heartbeat, () => handler(deadLetter));
        } catch (error) {
          if (attempt >= DEFAULT_RETRY.maxAttempts) {
            this.logger?.error({ group, eventId: id, err: errorReason(error) }, 'dead-letter handler failed; skipping the dead letter');
            return;
          }
          await runner.wait(backoffDelay(DEFAULT_RETRY, attempt), heartbeat);
        }
      }
    };
    return this.startRunner({
      groupId: `${this.namespace}.${group}.dead-letter-reader`,
      topics: [this.deadLetterTopic],
      fromBeginning: true, // every dead letter of the group, the old ones too
      pinStart: false,
      concurrency: 1,
      handle,
      deleteGroupOnClose: false,
    });
  }

  /** See KafkaDeadLetterDepth: this group's dead letters past its redrive cursor. */
  async deadLetterDepth(group: string): Promise<number> {
    if (this.closed || !this.connected) throw new Error('kafka bus is not connected: dead-letter depth unknown');
    return this.deadLetterDepths.depth(group);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const started = Date.now();
    this.closed = true;
    this.stop.abort();
    if (this.probeTimer) clearInterval(this.probeTimer);
    // Handlers in flight finish (a dead letter among them is still sent), then the producer goes
    // once the publishes in flight are acknowledged (or, during an outage, after a while).
    await Promise.allSettled([...[...this.runners.keys()].map((r) => r.close()), this.deadLetterDepths.close()]);
    const groupsOfThisInstance = [...this.runners.values(), this.deadLetterDepths.startedGroup].filter((g): g is string => g !== null);
    this.runners.clear();
    const bounded = (work: Promise<unknown>) => beforeDeadline(Date.now() + 3_000, work).catch(() => undefined);
    if (groupsOfThisInstance.length > 0) await bounded(this.admin.deleteGroups(groupsOfThisInstance));
    for (let i = 0; this.sender.sending > 0 && i < 200; i++) await sleep(50);
    this.probeSockets.destroyAll(true);
    await this.probeRun;
    // kafkajs' `disconnect()` waits for the requests in flight; during an outage those wait for
    // their timeouts: closing the sockets ends them.
    await Promise.allSettled([this.sender.disconnect(), this.admin.disconnect(), this.probeAdmin.disconnect()].map(bounded));
    this.connected = false;
    const leftOpen = this.sockets.destroyAll(true);
    if (leftOpen > 0) this.logger?.debug({ sockets: leftOpen }, 'kafka: closed sockets kafkajs left open');
    this.logger?.debug({ ms: Date.now() - started }, 'kafka bus closed');
  }

  // ---------------------------------------------------------------------------------------------

  private async connectLoop(): Promise<void> {
    const topics = [...new Set(EVENT_TYPES.map((t) => this.topicOf(t))), this.deadLetterTopic];
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error('kafka bus is closed');
      try {
        await Promise.race([
          (async () => {
            await this.admin.connect();
            await this.ensureTopics(topics);
            await this.sender.connect();
          })(),
          new Promise((_, reject) => this.stop.signal.addEventListener('abort', () => reject(new Error('kafka bus is closed')), { once: true })),
        ]);
        this.connected = true;
        this.signal(true);
        this.probeTimer = setInterval(() => this.probe(), 2_000).unref();
        return;
      } catch (error) {
        this.signal(false);
        this.logger?.warn({ err: errorReason(error), attempt }, 'kafka: cannot connect yet; retrying');
        await sleep(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)), undefined, { signal: this.stop.signal }).catch(() => undefined);
      }
    }
  }

  /** Creates the topics that do not exist yet (idempotent: existing ones are left as they are). */
  private async ensureTopics(topics: readonly string[]): Promise<void> {
    let missing = topics.filter((t) => !this.topics.has(t));
    if (missing.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    for (const t of missing) if (existing.has(t)) this.topics.add(t);
    missing = missing.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: this.partitions })),
    });
    for (const t of missing) this.topics.add(t);
  }

  /** `internal`: a dead letter, still sent while the bus closes (its record is committed after it). */
  private async send(topicMessages: TopicMessages, internal: boolean): Promise<void> {
    if (this.closed && !internal) throw new Error('kafka bus is closed');
    await this.sender.send(topicMessages);
  }

  private async deadLetter(group: string, message: RawMessage, reason: string, attempts: number): Promise<void> {
    const headers = {
      ...message.headers,
      [DEAD.reason]: reason,
      [DEAD.group]: group,
      [DEAD.attempts]: String(attempts),
      [DEAD.at]: new Date().toISOString(),
    };
    // Acknowledged before the record's offset is committed (this runs inside `eachMessage`).
    await this.send([{ topic: this.deadLetterTopic, messages: [{ key: group, value: message.body, headers }] }], true);
    this.logger?.warn({ group, reason, attempts, eventId: message.headers['ce_id'] ?? null }, 'event dead-lettered');
  }

  private async startRunner(options: {
    groupId: string;
    topics: string[];
    fromBeginning: boolean;
    pinStart: boolean;
    concurrency: number;
    handle: (payload: EachMessagePayload, runner: ConsumerRunner) => Promise<void>;
    handleBatch?: (payload: EachBatchPayload, runner: ConsumerRunner) => Promise<void>;
    deleteGroupOnClose: boolean;
  }): Promise<Subscription> {
    const { deleteGroupOnClose, ...rest } = options;
    const runner = new ConsumerRunner({
      ...rest,
      client: this.client,
      admin: this.admin,
      timings: this.timings,
      retry: CONSUMER_RETRY,
      logger: this.logger,
      onHealth: (ok) => this.signal(ok),
    });
    this.runners.set(runner, deleteGroupOnClose ? options.groupId : null);
    await runner.start();
    return {
      close: async () => {
        await runner.close();
        // A broadcast group is this instance's alone: nothing to keep once it is closed.
        if (this.runners.delete(runner) && deleteGroupOnClose) {
          await this.admin.deleteGroups([options.groupId]).catch(() => undefined);
        }
      },
    };
  }

  /** For admin calls at subscribe time: kafkajs gives up at once on a refused connection. */
  private async retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (this.closed || Date.now() >= deadline) throw error;
        this.logger?.warn({ err: errorReason(error), attempt }, `kafka: could not ${what} yet; retrying`);
        await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)), undefined, { signal: this.stop.signal }).catch(() => undefined);
      }
    }
  }

  /** Heartbeats while a handler runs, so that a slow handler does not cost the group membership. */
  private async keepAlive<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => void heartbeat().catch(() => undefined), this.timings.heartbeatIntervalMs);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  private signal(ok: boolean): void {
    if (ok) this.lastOk = Date.now();
    else this.lastFailure = Date.now();
  }

  /** Asks the broker for its metadata every 2 s, so that `isHealthy()` sees an outage while idle. */
  private probe(): void {
    if (this.probeRun || this.closed) return;
    this.probeRun = (async () => {
      // A connection that died with a restarted broker fails once: reconnect and ask again.
      for (let attempt = 1; attempt <= 2 && !this.closed; attempt++) {
        try {
          await beforeDeadline(Date.now() + attempt * 1_000, (async () => {
            await this.probeAdmin.connect();
            await this.probeAdmin.describeCluster();
          })());
          this.signal(true);
          return;
        } catch {
          // A request on a dead connection waits for its timeout, and so would `disconnect()`.
          this.probeSockets.destroyAll(false);
          await this.probeAdmin.disconnect().catch(() => undefined);
        }
      }
      if (!this.closed) this.signal(false);
    })().finally(() => {
      this.probeRun = null;
    });
  }
}
