import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, KafkaMessage } from 'kafkajs';
import type { ClientSettings } from './kafka-client.js';
import { ConsumerRunner, headerStrings, type KafkaConsumerTimings } from './kafka-consumer.js';
import { beforeDeadline } from './kafka-producer.js';
import type { BusLogger } from './types.js';

export interface KafkaDeadLetterDepthOptions {
  /** The bus's admin client (end offsets and the redrive cursors). */
  admin: Admin;
  client: ClientSettings;
  namespace: string;
  instanceId: string;
  /** The dead-letter topic every group of the namespace shares. */
  topic: string;
  /** The record header naming the group a dead letter belongs to. */
  groupHeader: string;
  timings: KafkaConsumerTimings;
  retry: { initialRetryTime: number; maxRetryTime: number; retries: number };
  logger?: BusLogger | undefined;
  /** How long `depth()` may take before it rejects (default 2 s). */
  timeoutMs?: number;
}

/** The first index of `sorted` (ascending) whose value is >= `value`. */
function firstAtLeast(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Dead-letter depth on Kafka. Every group's dead letters share one topic (the header names the
 * group), and a redrive moves the cursor of the consumer group `<ns>.<group>.dead-letter-reader`
 * (`consumeDeadLetters`) past them: the depth of a group is the number of its dead letters at or
 * after that cursor, or all of them while the cursor has no offset (the reader starts from the
 * beginning), as `roster dead-letters list` marks them.
 *
 * Counting needs the records, so a scanner reads the topic once, in the background, and keeps the
 * offsets of each group's dead letters by partition: the first `depth()` starts it (a consumer
 * group of this instance's own, `<ns>.dead-letter-depth.<instance>.<random>`, deleted at close),
 * then it only reads what is new. A `depth()` costs two admin requests (the topic's end offsets,
 * the cursor) and a wait for the scanner to reach those ends, all bounded by `timeoutMs`.
 * Memory: one number per dead letter still in the topic (retention drops the rest).
 */
export class KafkaDeadLetterDepth {
  readonly scanGroupId: string;
  private runner: ConsumerRunner | null = null;
  private starting: Promise<void> = Promise.resolve();
  /** Partition → the next offset the scanner has not read yet. */
  private readonly scanned = new Map<number, number>();
  /** Group → partition → offsets of its dead letters, ascending. */
  private readonly offsets = new Map<string, Map<number, number[]>>();
  /** One count per group at a time, however many callers wait for it. */
  private readonly counting = new Map<string, Promise<number>>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly o: KafkaDeadLetterDepthOptions) {
    this.scanGroupId = `${o.namespace}.dead-letter-depth.${o.instanceId}.${randomUUID().slice(0, 8)}`;
    this.timeoutMs = o.timeoutMs ?? 2_000;
  }

  /** The scanner's consumer group, to delete at close; null if it never started. */
  get startedGroup(): string | null {
    return this.runner ? this.scanGroupId : null;
  }

  depth(group: string): Promise<number> {
    if (this.closed) return Promise.reject(new Error('kafka bus is closed'));
    let count = this.counting.get(group);
    if (!count) {
      count = this.count(group).finally(() => this.counting.delete(group));
      this.counting.set(group, count);
    }
    return beforeDeadline(Date.now() + this.timeoutMs, count);
  }

  async close(): Promise<void> {
    this.closed = true;
    // A consumer stopped before its first fetch stays in its group until its session times out
    // (kafkajs sends no LeaveGroup then), and the group cannot be deleted.
    await Promise.race([this.starting, sleep(5_000, undefined, { ref: false })]);
    await this.runner?.close();
  }

  private async count(group: string): Promise<number> {
    const deadline = Date.now() + this.timeoutMs;
    this.startScanning();
    const { admin, namespace, topic } = this.o;
    const [ends, cursors] = await this.untilDeadline(deadline, () => Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: `${namespace}.${group}.dead-letter-reader`, topics: [topic] }),
    ]));
    const cursor = new Map((cursors[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const behind = () => ends.some((e) => Math.max(this.scanned.get(e.partition) ?? 0, Number(e.low)) < Number(e.high));
    while (behind()) {
      if (this.closed) throw new Error('kafka bus is closed');
      if (Date.now() >= deadline) throw new Error(`kafka: the scan of ${topic} has not reached its end yet`);
      await sleep(20);
    }
    let depth = 0;
    const byPartition = this.offsets.get(group);
    for (const e of ends) {
      const list = byPartition?.get(e.partition);
      if (!list) continue;
      // Records below `low` were deleted by retention: forgotten. Below the cursor: redriven (kept,
      // in case an operator moves the cursor back).
      list.splice(0, firstAtLeast(list, Number(e.low)));
      depth += list.length - firstAtLeast(list, cursor.get(e.partition) ?? -1);
    }
    return depth;
  }

  /** Tries `fn` again until `deadline`: e.g. "not the leader" while a new topic's partitions settle. */
  private async untilDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (this.closed || Date.now() + 100 >= deadline) throw error;
        await sleep(100);
      }
    }
  }

  private startScanning(): void {
    if (this.runner || this.closed) return;
    const { admin, client, topic, timings, retry, logger } = this.o;
    this.runner = new ConsumerRunner({
      client: { ...client, clientId: `${client.clientId}.dead-letter-depth` },
      admin,
      groupId: this.scanGroupId,
      topics: [topic],
      fromBeginning: true,
      pinStart: false,
      concurrency: 1,
      // Alone in its group and rarely fed: a long poll and slow heartbeats keep it cheap while idle.
      timings: { ...timings, maxWaitTimeMs: Math.max(timings.maxWaitTimeMs, 1_000), heartbeatIntervalMs: 3_000, sessionTimeoutMs: 30_000 },
      retry,
      logger,
      // Not the bus's health: a slow scanner only delays the gauge.
      onHealth: () => undefined,
      handle: async ({ partition, message }) => this.record(partition, message),
    });
    this.starting = this.runner.start().catch(() => undefined);
  }

  private record(partition: number, message: KafkaMessage): void {
    const offset = Number(message.offset);
    // A replaced consumer starts again from the last commit: what it reads twice counts once.
    if (offset < (this.scanned.get(partition) ?? 0)) return;
    this.scanned.set(partition, offset + 1);
    const group = headerStrings(message.headers)[this.o.groupHeader];
    if (!group) return;
    const byPartition = this.offsets.get(group) ?? new Map<number, number[]>();
    this.offsets.set(group, byPartition);
    const list = byPartition.get(partition) ?? [];
    byPartition.set(partition, list);
    list.push(offset);
  }
}
