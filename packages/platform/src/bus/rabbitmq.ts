import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, ConsumeMessage, MessageProperties, Options } from 'amqplib';
import type { EventEnvelope } from '@roster/contracts';
import { encode } from './codec.js';
import { deliver, identify } from './dispatch.js';
import {
  AmqpSession, newConsumer, release, whenIdle, type Consumer, type Live, type Outgoing,
} from './rabbitmq-session.js';
import { Topology } from './rabbitmq-topology.js';
import {
  backoffDelay, DEFAULT_RETRY,
  type Bus, type BusObserver, type BusOptions, type DeadLetter, type EventHandler, type RawMessage,
  type RetryPolicy, type Subscription, type SubscriptionOptions,
} from './types.js';

/*
 * Wire format. Events travel in CloudEvents binary mode as described in codec.ts: each attribute
 * is an AMQP header `cloudEvents:<attribute>`, `datacontenttype` is the `content-type` property,
 * `data` is the body, the routing key is the event type; `publish()` also sets messageId (the
 * event id), timestamp and persistent delivery. Roster's own bookkeeping headers start with
 * `x-roster-` and, like the broker's `x-death`, are never part of the message handed to a
 * handler or kept in a DeadLetter's `message`:
 *   x-roster-attempt       the attempt a retried message is on (absent: 1)
 *   x-roster-routing-key   the original routing key (event type) of a retried or dead message
 *   x-roster-retry-reason  why the previous attempt failed
 *   x-roster-dead-reason, x-roster-attempts, x-roster-group, x-roster-dead-at   on dead letters
 * Broker objects: see Topology in rabbitmq-topology.ts.
 */
const H = {
  attempt: 'x-roster-attempt',
  routingKey: 'x-roster-routing-key',
  retryReason: 'x-roster-retry-reason',
  deadReason: 'x-roster-dead-reason',
  attempts: 'x-roster-attempts',
  group: 'x-roster-group',
  deadAt: 'x-roster-dead-at',
} as const;

const isBookkeeping = (name: string): boolean =>
  name.startsWith('x-roster-') || name === 'x-death' || name.startsWith('x-first-death-') || name.startsWith('x-last-death-');

/** The message's own headers, typed as the client library hands them over. */
function ownHeaders(properties: MessageProperties): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties.headers ?? {}).filter(([name]) => !isBookkeeping(name)));
}

/** The message as received: its own headers as strings, `content-type` from the property. */
function toRaw(msg: ConsumeMessage): RawMessage {
  // One pass over the headers: this runs for every delivery.
  const headers: Record<string, string> = {};
  const all = msg.properties.headers ?? {};
  for (const name in all) {
    const value: unknown = all[name];
    if (value === undefined || value === null || isBookkeeping(name)) continue;
    headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  if (msg.properties.contentType !== undefined) headers['content-type'] = String(msg.properties.contentType);
  return { headers, body: msg.content.toString('utf8') };
}

/** Publish options carrying `headers`, with `content-type` moved to the property. */
function publishOptionsOf(headers: Record<string, string>): Options.Publish {
  const { 'content-type': contentType, ...rest } = headers;
  return { persistent: true, headers: rest, ...(contentType !== undefined ? { contentType } : {}) };
}

/** A copy of `msg` for a retry or dead-letter queue: same body and properties, own headers plus `extra`. */
function forwardOptions(msg: ConsumeMessage, extra: Record<string, string | number>): Options.Publish {
  const p = msg.properties;
  return {
    persistent: true,
    headers: { ...ownHeaders(p), ...extra },
    ...(p.contentType !== undefined ? { contentType: p.contentType } : {}),
    ...(p.messageId !== undefined ? { messageId: p.messageId } : {}),
    ...(p.timestamp !== undefined ? { timestamp: p.timestamp } : {}),
  };
}

function header(msg: ConsumeMessage, name: string): string | undefined {
  const value: unknown = msg.properties.headers?.[name];
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function attemptOf(msg: ConsumeMessage): number {
  const n = Number(header(msg, H.attempt));
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

export interface RabbitMqBusOptions extends BusOptions {
  url: string;
  /** How long `publish()` may wait for a connection and for confirms before rejecting (30 s). */
  publishTimeoutMs?: number;
  /** `publish()` calls allowed to wait for a connection at once; more are rejected at once (1000). */
  maxWaitingPublishers?: number;
}

interface Member {
  options: SubscriptionOptions;
  types: Set<string>;
  inFlight: number;
  idle: Array<() => void>;
  closed: boolean;
}

/** The competing consumer of one group in this process; the group's subscriptions share it. */
interface GroupState {
  group: string;
  retry: RetryPolicy;
  members: Member[];
  next: number;
  consumer: Consumer;
}

const samePolicy = (a: RetryPolicy, b: RetryPolicy) =>
  a.maxAttempts === b.maxAttempts && a.initialDelayMs === b.initialDelayMs && a.maxDelayMs === b.maxDelayMs;

/**
 * The RabbitMQ adapter (amqplib). Publishes with confirms; consumes with manual acks through the
 * shared `deliver()` pipeline; retries competing groups through per-attempt delay queues and
 * broadcast subscriptions in process; dead-letters to `${ns}.${group}.dead`. A retry or dead
 * letter copy is confirmed by the broker before its original is acked, so nothing is lost; a
 * message whose connection dies before its ack is redelivered (at least once: consumers are
 * idempotent). Reconnects with capped exponential backoff (AmqpSession), re-declaring the topology
 * and re-creating every consumer.
 */
export class RabbitMqBus implements Bus {
  readonly transport = 'rabbitmq' as const;
  private readonly topology: Topology;
  private readonly session: AmqpSession;
  private readonly observer: BusObserver | undefined;
  private readonly instanceId: string;
  private readonly groups = new Map<string, GroupState>();
  private closing: Promise<void> | null = null;

  constructor(options: RabbitMqBusOptions) {
    this.topology = new Topology(options.namespace ?? 'roster');
    this.observer = options.observer;
    this.instanceId = options.instanceId ?? randomUUID();
    this.session = new AmqpSession({
      url: options.url,
      topology: this.topology,
      connectionName: `roster ${this.topology.namespace} ${this.instanceId}`,
      logger: options.logger,
      publishTimeoutMs: options.publishTimeoutMs ?? 30_000,
      maxWaitingPublishers: options.maxWaitingPublishers ?? 1_000,
    });
  }

  connect(): Promise<void> {
    return this.session.ensureConnecting();
  }

  isHealthy(): boolean {
    return this.session.isHealthy();
  }

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    await this.session.publish(events.map((event): Outgoing => {
      const message = encode(event, 'amqp');
      const time = Date.parse(event.time);
      return {
        exchange: this.topology.events,
        routingKey: event.type,
        content: Buffer.from(message.body, 'utf8'),
        options: {
          ...publishOptionsOf(message.headers),
          messageId: event.id,
          timestamp: Math.floor((Number.isNaN(time) ? Date.now() : time) / 1000),
        },
        onConfirmed: () => this.observer?.published?.(event.type),
      };
    }));
  }

  async publishRaw(routingType: string, _subject: string, message: RawMessage): Promise<void> {
    await this.session.publish([{
      exchange: this.topology.events,
      routingKey: routingType,
      content: Buffer.from(message.body, 'utf8'),
      options: publishOptionsOf(message.headers),
    }]);
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    this.assertOpen();
    const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) throw new Error('retry.maxAttempts must be an integer >= 1');
    void this.session.ensureConnecting().catch(() => undefined);
    if (options.delivery === 'broadcast') {
      const consumer: Consumer = newConsumer(`broadcast ${options.group}`, options.concurrency ?? 16,
        (ch) => this.topology.declareBroadcast(ch, options.group, options.types),
        (msg, ch, live) => this.handleBroadcast(consumer, options, retry, msg, ch, live));
      await this.session.addConsumer(consumer);
      return { close: () => this.session.stopConsumer(consumer) };
    }
    return this.subscribeCompeting(options, retry);
  }

  /**
   * One consumer per group and process: subscriptions of the same group share the group queue,
   * and each delivery goes to a subscription that asked for its type.
   */
  private async subscribeCompeting(options: SubscriptionOptions, retry: RetryPolicy): Promise<Subscription> {
    const { group } = options;
    const member: Member = { options, types: new Set(options.types), inFlight: 0, idle: [], closed: false };
    const existing = this.groups.get(group);
    if (existing) {
      if (!samePolicy(existing.retry, retry)) {
        throw new Error(`group "${group}" is already subscribed on this bus with another retry policy (its retry delays are fixed per queue)`);
      }
      existing.members.push(member);
      const live = existing.consumer.live;
      if (live && !live.dead) {
        try {
          await this.session.withChannel(live, (ch) => this.topology.bind(ch, this.topology.groupQueue(group), options.types));
        } catch (error) {
          if (!live.dead) { // else the next connection binds every member's types
            existing.members = existing.members.filter((m) => m !== member);
            throw error;
          }
        }
      }
      return { close: () => this.closeMember(existing, member) };
    }
    const state: GroupState = { group, retry, members: [member], next: 0, consumer: undefined as unknown as Consumer };
    state.consumer = newConsumer(`group ${group}`, options.concurrency ?? 16,
      (ch) => this.topology.declareGroup(ch, group, new Set(state.members.flatMap((m) => [...m.types])), retry),
      (msg, ch, live) => this.handleGroup(state, msg, ch, live));
    this.groups.set(group, state);
    try {
      await this.session.addConsumer(state.consumer);
    } catch (error) {
      if (this.groups.get(group) === state) this.groups.delete(group);
      throw error;
    }
    return { close: () => this.closeMember(state, member) };
  }

  private async closeMember(state: GroupState, member: Member): Promise<void> {
    if (!member.closed) {
      member.closed = true;
      state.members = state.members.filter((m) => m !== member);
      if (state.members.length === 0) {
        if (this.groups.get(state.group) === state) this.groups.delete(state.group);
        await this.session.stopConsumer(state.consumer);
      }
    }
    await whenIdle(member);
  }

  async consumeDeadLetters(group: string, handler: (deadLetter: DeadLetter) => Promise<void>): Promise<Subscription> {
    this.assertOpen();
    void this.session.ensureConnecting().catch(() => undefined);
    const consumer = newConsumer(`dead letters of ${group}`, 16,
      (ch) => this.topology.declareDead(ch, group),
      (msg, ch, live) => this.handleDeadLetter(group, handler, msg, ch, live));
    await this.session.addConsumer(consumer);
    return { close: () => this.session.stopConsumer(consumer) };
  }

  /**
   * The ready messages of the group's dead queue (passive `queue.declare`: nothing is created; a
   * queue never declared holds nothing). Dead letters a consumer holds unacked (a redrive or a
   * `roster dead-letters list` in progress) are not counted. Rejects at once when disconnected.
   */
  async deadLetterDepth(group: string): Promise<number> {
    const live = this.session.current;
    if (!live) throw new Error('RabbitMQ is not connected: dead-letter depth unknown');
    return this.session.withChannel(live, async (ch) => {
      try {
        return (await ch.checkQueue(this.topology.deadQueue(group))).messageCount;
      } catch (error) {
        // 404 closes only this scratch channel.
        if ((error as { code?: unknown }).code === 404) return 0;
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    this.closing ??= this.session.close().finally(() => this.groups.clear());
    return this.closing;
  }

  private assertOpen(): void {
    if (this.session.isClosed()) throw new Error('RabbitMQ bus is closed');
  }

  // ---- deliveries ---------------------------------------------------------------------------

  private async handleGroup(state: GroupState, msg: ConsumeMessage, ch: Channel, live: Live): Promise<void> {
    const type = this.typeOf(msg);
    const attempt = attemptOf(msg);
    const candidates = state.members.filter((m) => !m.closed && m.types.has(type));
    const member = candidates.length > 0 ? candidates[state.next++ % candidates.length] : undefined;
    // A type bound for the group by another instance (rolling deploy) that no subscription here
    // takes: retried like a failure, so that another instance may take it, then dead-lettered.
    const handler: EventHandler = member?.options.handler ?? (async () => {
      throw new Error(`no subscription for "${type}" in group "${state.group}" on instance ${this.instanceId}`);
    });
    if (member) member.inFlight++;
    const outcome = await deliver(toRaw(msg), 'amqp', handler, { transport: 'rabbitmq', attempt, group: state.group },
      state.retry.maxAttempts, this.observer).finally(() => member && release(member));
    if (live.dead) return; // unacked: the broker redelivers it on the next connection
    if (outcome.kind === 'retry') {
      await this.session.sendOn(live, '', this.topology.retryQueue(state.group, attempt), msg.content, forwardOptions(msg, {
        [H.attempt]: attempt + 1, [H.routingKey]: type, [H.retryReason]: outcome.reason.slice(0, 1000),
      }));
    } else if (outcome.kind === 'dead') {
      await this.sendDead(live, state.group, msg, type, outcome.reason, attempt);
    }
    this.session.ack(ch, live, msg);
  }

  /** Broadcast queues live and die with the connection: retries happen here, in process. */
  private async handleBroadcast(
    consumer: Consumer, options: SubscriptionOptions, retry: RetryPolicy, msg: ConsumeMessage, ch: Channel, live: Live,
  ): Promise<void> {
    const raw = toRaw(msg);
    const { group, handler } = options;
    for (let attempt = 1; ; attempt++) {
      const outcome = await deliver(raw, 'amqp', handler, { transport: 'rabbitmq', attempt, group }, retry.maxAttempts, this.observer);
      if (outcome.kind === 'handled') break;
      if (live.dead) return;
      if (outcome.kind === 'dead') {
        await this.sendDead(live, group, msg, this.typeOf(msg), outcome.reason, attempt);
        break;
      }
      try {
        await sleep(backoffDelay(retry, attempt), undefined, { signal: consumer.abort.signal });
      } catch {
        return; // closing: a broadcast subscription keeps nothing
      }
    }
    this.session.ack(ch, live, msg);
  }

  private async handleDeadLetter(
    group: string, handler: (d: DeadLetter) => Promise<void>, msg: ConsumeMessage, ch: Channel, live: Live,
  ): Promise<void> {
    const message = toRaw(msg);
    const { id, type } = identify(message, 'amqp');
    const attempts = Number(header(msg, H.attempts));
    const deadLetter: DeadLetter = {
      group: header(msg, H.group) ?? group,
      reason: header(msg, H.deadReason) ?? 'unknown',
      attempts: Number.isFinite(attempts) ? attempts : 0,
      deadAt: header(msg, H.deadAt) ?? new Date((msg.properties.timestamp ?? 0) * 1000).toISOString(),
      eventId: id,
      eventType: type,
      message,
    };
    await handler(deadLetter); // if it throws, the session requeues the dead letter after a pause
    this.session.ack(ch, live, msg);
  }

  private sendDead(live: Live, group: string, msg: ConsumeMessage, type: string, reason: string, attempts: number) {
    return this.session.sendOn(live, this.topology.deadLetter, group, msg.content, forwardOptions(msg, {
      [H.deadReason]: reason, [H.attempts]: attempts, [H.group]: group, [H.deadAt]: new Date().toISOString(), [H.routingKey]: type,
    }));
  }

  /** The event type: the routing key, or what a retried message carries. */
  private typeOf(msg: ConsumeMessage): string {
    return header(msg, H.routingKey)
      ?? (msg.fields.exchange === this.topology.events ? msg.fields.routingKey : header(msg, 'cloudEvents:type') ?? '');
  }
}
