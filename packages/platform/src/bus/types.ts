import type { EventEnvelope, RosterEvent } from '@roster/contracts';

export type Transport = 'memory' | 'rabbitmq' | 'kafka';

export interface DeliveryContext {
  transport: Transport;
  /** 1 on the first delivery, then 2, 3 ... after each failed attempt. */
  attempt: number;
  group: string;
}

export type EventHandler = (event: RosterEvent, ctx: DeliveryContext) => Promise<void>;

export interface RetryPolicy {
  /** Attempts before the event goes to the dead-letter destination (default 5). */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles each time up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 5_000 };

export const backoffDelay = (policy: RetryPolicy, failedAttempt: number): number =>
  Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failedAttempt - 1));

export interface SubscriptionOptions {
  /**
   * The consuming service (one durable queue / consumer group per group). Instances of the
   * same group compete: each event reaches one of them.
   */
  group: string;
  types: readonly string[];
  handler: EventHandler;
  /**
   * `competing` (default): one instance of the group handles each event.
   * `broadcast`: every instance gets every event, nothing durable is kept for it (per-instance
   * caches such as the token verifier's revocation list).
   */
  delivery?: 'competing' | 'broadcast';
  retry?: Partial<RetryPolicy>;
  /** Events handled at once by this instance (RabbitMQ prefetch). Default 16. Kafka: one at a time per partition. */
  concurrency?: number;
}

export interface Subscription {
  /** Stops taking new events and waits for the ones in flight. */
  close(): Promise<void>;
}

/** A message bytes-as-received, with headers as strings: what a dead letter keeps. */
export interface RawMessage {
  headers: Record<string, string>;
  body: string;
}

export interface DeadLetter {
  group: string;
  /** Why it was dead-lettered: the handler's last error or why it could not be parsed. */
  reason: string;
  attempts: number;
  deadAt: string;
  /** Envelope attributes when they could be read (id, type, subject ...). */
  eventId: string | null;
  eventType: string | null;
  message: RawMessage;
}

/** Hooks for metrics; every adapter calls them. */
export interface BusObserver {
  published?(type: string): void;
  consumed?(group: string, type: string, outcome: 'handled' | 'retried' | 'dead_lettered', lagMs: number): void;
}

export interface Bus {
  readonly transport: Transport;
  /** Connects (and declares topology); retries with backoff until `close()` is called. */
  connect(): Promise<void>;
  /** Resolves once the broker has durably accepted every event (publisher confirms / acks=all). */
  publish(events: readonly EventEnvelope[]): Promise<void>;
  /** Sends bytes as they are, bypassing validation: for replaying dead letters and for tests. */
  publishRaw(routingType: string, subject: string, message: RawMessage): Promise<void>;
  subscribe(options: SubscriptionOptions): Promise<Subscription>;
  /** Streams the dead letters of `group` to `handler` (operators' tooling and tests). */
  consumeDeadLetters(group: string, handler: (deadLetter: DeadLetter) => Promise<void>): Promise<Subscription>;
  /**
   * How many dead letters of `group` wait in its dead-letter destination now: the ones no
   * `consumeDeadLetters` (a redrive) has taken yet. For the `roster_dead_letter_depth` gauge;
   * rejects when the broker cannot be asked (not connected, no answer in time).
   */
  deadLetterDepth(group: string): Promise<number>;
  /** For `/readyz`. */
  isHealthy(): boolean;
  close(): Promise<void>;
}

/** The slice of a pino logger the adapters use. */
export interface BusLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BusOptions {
  /**
   * Prefix of every broker object (exchange, queues, topics, consumer groups): `roster` in
   * production; tests use a random one so that runs never see each other's messages.
   */
  namespace?: string;
  observer?: BusObserver;
  logger?: BusLogger;
  /** Identifies this process among the group's instances (broadcast queues, Kafka client id). */
  instanceId?: string;
}
