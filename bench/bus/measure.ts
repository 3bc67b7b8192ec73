import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What one measured path produced (one table row). */
export interface PathResult {
  path: string;
  /** Row group: `bus`, `outbox`, `postgres`. */
  kind: 'bus' | 'outbox' | 'postgres';
  events: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency measured here, in words (for the legend). */
  latency: string;
  /** Messages seen more than once (at-least-once redeliveries); not counted twice. */
  duplicates: number;
  /**
   * CPU time of the bench process (producer and consumer side together, user + system) per event:
   * what the client code costs, much less sensitive to other load on the machine than events/s.
   */
  cpuUsPerEvent?: number;
  note?: string;
}

/** Measures the process's CPU time from now on; `perEvent(n)` divides it by n (µs). */
export function cpuMeter(): { perEvent(events: number): number } {
  const start = process.cpuUsage();
  return {
    perEvent: (events) => {
      const d = process.cpuUsage(start);
      return (d.user + d.system) / events;
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Start and arrival times by key (an event id, or a person id for the outbox path). A key may
 * arrive before its start is recorded (the outbox relay can publish a row before the writer's
 * commit promise resolves): the latency is then 0. Duplicates are counted, never measured twice.
 */
export class Tracker {
  private readonly starts = new Map<string, number>();
  private readonly early = new Map<string, number>();
  private readonly seen = new Set<string>();
  private readonly latencies: number[] = [];
  private began = 0;
  private last = 0;
  private waiter: (() => void) | null = null;
  private started = 0;
  private readonly drains: { limit: number; resolve: () => void }[] = [];
  duplicates = 0;
  /** Arrivals of keys this run never started (strict trackers only): late copies of earlier runs. */
  strays = 0;

  /**
   * `strict`: every key is started before it can arrive (the bus paths); other arrivals are
   * strays. Not strict (the outbox path): a key may arrive before its start is recorded.
   */
  constructor(readonly expected: number, private readonly strict = true) {}

  get received(): number {
    return this.seen.size;
  }

  /** The clock of the throughput figure starts here (first publish, or first write). */
  begin(at = performance.now()): void {
    if (this.began === 0) this.began = at;
  }

  /** Started and not arrived yet. */
  get outstanding(): number {
    return this.started - this.latencies.length;
  }

  /**
   * Resolves once at most `limit` started keys are still to arrive; rejects after `timeoutMs` with
   * how many are outstanding, so that a stalled consumer fails the run instead of hanging it.
   */
  whenOutstandingAtMost(limit: number, timeoutMs: number): Promise<void> {
    if (this.outstanding <= limit) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `${this.outstanding} events published and not consumed after ${timeoutMs} ms (${this.seen.size} consumed in all): the consumer stalled`,
      )), timeoutMs);
      this.drains.push({ limit, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  start(key: string, at = performance.now()): void {
    this.begin(at);
    this.started++;
    const arrived = this.early.get(key);
    if (arrived !== undefined) {
      this.early.delete(key);
      this.latencies.push(Math.max(0, arrived - at));
    } else {
      this.starts.set(key, at);
    }
  }

  arrive(key: string): void {
    const now = performance.now();
    if (this.seen.has(key)) {
      this.duplicates++;
      return;
    }
    if (this.strict && !this.starts.has(key)) {
      this.strays++;
      return;
    }
    this.seen.add(key);
    this.last = now;
    const started = this.starts.get(key);
    if (started === undefined) {
      this.early.set(key, now);
    } else {
      this.starts.delete(key);
      this.latencies.push(now - started);
    }
    if (this.seen.size >= this.expected && this.waiter) this.waiter();
    if (this.drains.length > 0) {
      const outstanding = this.outstanding;
      for (let i = this.drains.length - 1; i >= 0; i--) {
        const drain = this.drains[i]!;
        if (outstanding <= drain.limit) {
          this.drains.splice(i, 1);
          drain.resolve();
        }
      }
    }
  }

  /** Resolves when every expected key arrived; rejects after `timeoutMs` with how many did. */
  async done(timeoutMs: number, what: string): Promise<void> {
    if (this.seen.size >= this.expected) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiter = resolve;
        timer = setTimeout(
          () => reject(new Error(`${what}: ${this.seen.size} of ${this.expected} events consumed after ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      this.waiter = null;
    }
  }

  result(path: string, kind: PathResult['kind'], latency: string, note?: string): PathResult {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const seconds = (this.last - this.began) / 1000;
    return {
      path, kind, latency,
      events: this.seen.size,
      seconds,
      perSecond: this.seen.size / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      duplicates: this.duplicates,
      ...(note !== undefined ? { note } : {}),
    };
  }
}

/** Latencies of calls that measure themselves (a transaction, a write), as a row. */
export class Durations {
  private readonly values: number[] = [];
  private began = 0;
  private ended = 0;

  begin(): void {
    if (this.began === 0) this.began = performance.now();
  }

  add(ms: number): void {
    this.values.push(ms);
    this.ended = performance.now();
  }

  result(path: string, kind: PathResult['kind'], latency: string, note?: string): PathResult {
    const sorted = [...this.values].sort((a, b) => a - b);
    const seconds = (this.ended - this.began) / 1000;
    return {
      path, kind, latency,
      events: sorted.length,
      seconds,
      perSecond: sorted.length / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      duplicates: 0,
      ...(note !== undefined ? { note } : {}),
    };
  }
}

/**
 * Publishes `items` as fast as the path takes them: batches of `batchSize`, at most `inFlight`
 * `publish()` calls awaiting their confirms at once, and at most `window` events published and
 * not consumed yet (so the producer cannot run ahead of the consumer: the latency measured is
 * the path's, not a backlog that grows with the number of events). Every item's start is
 * recorded just before the call that sends its batch.
 */
export async function publishInBatches<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  options: { batchSize: number; inFlight: number; window: number; timeoutSeconds: number },
  tracker: Tracker,
  publish: (batch: readonly T[]) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const size = Math.min(options.batchSize, items.length - next);
      await tracker.whenOutstandingAtMost(Math.max(0, options.window - size), options.timeoutSeconds * 1000);
      if (next >= items.length) return;
      const batch = items.slice(next, next + options.batchSize);
      next += batch.length;
      const at = performance.now();
      for (const item of batch) tracker.start(keyOf(item), at);
      await publish(batch);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
}

/**
 * Publishes `items` at a steady `rate` (events/s) in batches of `batchSize`, not waiting for one
 * call to finish before the next is due (calls overlap as they would from independent writers):
 * the latency of the path when it is not saturated.
 */
export async function publishPaced<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  options: { rate: number; batchSize: number },
  tracker: Tracker,
  publish: (batch: readonly T[]) => Promise<void>,
): Promise<void> {
  const intervalMs = (1000 * options.batchSize) / options.rate;
  const began = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0, n = 0; n < items.length; i++, n += options.batchSize) {
    const due = began + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const batch = items.slice(n, n + options.batchSize);
    const at = performance.now();
    for (const item of batch) tracker.start(keyOf(item), at);
    calls.push(publish(batch));
  }
  await Promise.all(calls);
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function concurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
