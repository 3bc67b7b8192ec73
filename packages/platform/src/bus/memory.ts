import { setTimeout as sleep } from 'node:timers/promises';
import type { EventEnvelope } from '@roster/contracts';
import { encode } from './codec.js';
import { deliver, identify } from './dispatch.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  type Bus,
  type BusObserver,
  type DeadLetter,
  type RawMessage,
  type RetryPolicy,
  type Subscription,
  type SubscriptionOptions,
} from './types.js';

interface Member {
  options: SubscriptionOptions;
  retry: RetryPolicy;
  queue: { type: string; message: RawMessage }[];
  running: number;
  closed: boolean;
  idle: Array<() => void>;
}

/**
 * The in-process bus of the embedded default and the fast tests. It behaves like the brokers
 * where it matters: messages are encoded to headers and bytes and decoded again (no shared
 * objects), each group gets its own copy, members of a group compete round-robin, failures are
 * retried with backoff and then dead-lettered with their reason. It keeps nothing across restarts
 * (the outbox does: unpublished events are relayed again at start).
 */
export class MemoryBus implements Bus {
  readonly transport = 'memory' as const;
  private readonly groups = new Map<string, { members: Member[]; next: number }>();
  private readonly broadcast: Member[] = [];
  /** Dead letters by group that no dead-letter consumer has taken yet (its handler resolved). */
  private readonly deadLetters = new Map<string, DeadLetter[]>();
  private readonly deadLetterWatchers = new Map<string, Set<(d: DeadLetter) => Promise<void>>>();
  /** Dead letters being handed to a consumer now: never to two at once. */
  private readonly offering = new WeakSet<DeadLetter>();
  private closed = false;
  private readonly serviceObservers = new Map<string, BusObserver>();
  private readonly observer: BusObserver;

  constructor(observer?: BusObserver) {
    // Several services share this bus in the embedded mode: each one's metrics see its own
    // consumption (by group) and its own publications (by the event's source).
    this.observer = {
      published: (type) => observer?.published?.(type),
      consumed: (group, type, outcome, lagMs) => {
        observer?.consumed?.(group, type, outcome, lagMs);
        this.serviceObservers.get(group)?.consumed?.(group, type, outcome, lagMs);
      },
    };
  }

  /** Feeds `observer` with what concerns `service` (embedded mode: one observer per service's metrics). */
  observe(service: string, observer: BusObserver): void {
    this.serviceObservers.set(service, observer);
  }

  async connect(): Promise<void> {}

  isHealthy(): boolean {
    return !this.closed;
  }

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    for (const event of events) {
      await this.publishRaw(event.type, event.subject, encode(event, 'kafka'));
      this.observer.published?.(event.type);
      this.serviceObservers.get(event.source.replace(/^\/roster\//, ''))?.published?.(event.type);
    }
  }

  async publishRaw(routingType: string, _subject: string, message: RawMessage): Promise<void> {
    if (this.closed) throw new Error('memory bus is closed');
    for (const group of this.groups.values()) {
      const candidates = group.members.filter((m) => !m.closed && m.options.types.includes(routingType));
      if (candidates.length === 0) continue;
      const member = candidates[group.next++ % candidates.length]!;
      this.enqueue(member, routingType, message);
    }
    for (const member of this.broadcast) {
      if (!member.closed && member.options.types.includes(routingType)) this.enqueue(member, routingType, message);
    }
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    const member: Member = {
      options,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      queue: [],
      running: 0,
      closed: false,
      idle: [],
    };
    if (options.delivery === 'broadcast') {
      this.broadcast.push(member);
    } else {
      const group = this.groups.get(options.group) ?? { members: [], next: 0 };
      group.members.push(member);
      this.groups.set(options.group, group);
    }
    return {
      close: async () => {
        member.closed = true;
        if (member.running > 0 || member.queue.length > 0) await new Promise<void>((r) => member.idle.push(r));
        const group = this.groups.get(options.group);
        if (group) group.members = group.members.filter((m) => m !== member);
        const i = this.broadcast.indexOf(member);
        if (i >= 0) this.broadcast.splice(i, 1);
      },
    };
  }

  /**
   * Like a broker's dead-letter queue: each waiting dead letter goes to one consumer and is gone
   * once its handler resolved (a redrive takes it); one whose handler threw stays waiting.
   */
  async consumeDeadLetters(group: string, handler: (d: DeadLetter) => Promise<void>): Promise<Subscription> {
    const watchers = this.deadLetterWatchers.get(group) ?? new Set();
    watchers.add(handler);
    this.deadLetterWatchers.set(group, watchers);
    for (const dl of [...(this.deadLetters.get(group) ?? [])]) await this.offer(group, dl, [handler]);
    return { close: async () => void watchers.delete(handler) };
  }

  async deadLetterDepth(group: string): Promise<number> {
    return this.deadLetters.get(group)?.length ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private enqueue(member: Member, type: string, message: RawMessage): void {
    member.queue.push({ type, message });
    this.pump(member);
  }

  private pump(member: Member): void {
    const limit = member.options.concurrency ?? 16;
    while (member.running < limit && member.queue.length > 0) {
      const item = member.queue.shift()!;
      member.running++;
      void this.handle(member, item.message).finally(() => {
        member.running--;
        this.pump(member);
        if (member.running === 0 && member.queue.length === 0) member.idle.splice(0).forEach((r) => r());
      });
    }
  }

  private async handle(member: Member, message: RawMessage): Promise<void> {
    const { group, handler } = member.options;
    for (let attempt = 1; ; attempt++) {
      const outcome = await deliver(
        message, 'kafka', handler, { transport: 'memory', attempt, group }, member.retry.maxAttempts, this.observer,
      );
      if (outcome.kind === 'handled') return;
      if (outcome.kind === 'dead') return this.deadLetter(group, message, outcome.reason, attempt);
      await sleep(backoffDelay(member.retry, attempt));
    }
  }

  private async deadLetter(group: string, message: RawMessage, reason: string, attempts: number): Promise<void> {
    const { id, type } = identify(message, 'kafka');
    const dl: DeadLetter = {
      group, reason, attempts, deadAt: new Date().toISOString(), eventId: id, eventType: type, message,
    };
    const list = this.deadLetters.get(group) ?? [];
    list.push(dl);
    this.deadLetters.set(group, list);
    await this.offer(group, dl, [...(this.deadLetterWatchers.get(group) ?? [])]);
  }

  /** Hands `dl` to the first of `watchers` that takes it (its handler resolves); else it waits. */
  private async offer(group: string, dl: DeadLetter, watchers: readonly ((d: DeadLetter) => Promise<void>)[]): Promise<void> {
    if (this.offering.has(dl)) return;
    this.offering.add(dl);
    try {
      for (const watcher of watchers) {
        try {
          await watcher(dl);
        } catch {
          continue; // not taken: the next consumer, or it waits for one
        }
        const list = this.deadLetters.get(group) ?? [];
        const i = list.indexOf(dl);
        if (i >= 0) list.splice(i, 1);
        return;
      }
    } finally {
      this.offering.delete(dl);
    }
  }
}
