import { randomUUID } from 'node:crypto';
import type { BusLogger } from '@roster/platform/bus/types';

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};

const skip = new Set((process.env['BENCH_SKIP'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));

/** Everything the bus benchmark reads from the environment (bench/README.md lists the same). */
export const config = {
  /** Events per bus path (memory, RabbitMQ); `BENCH_EVENTS` sets every path's count at once. */
  events: int('BENCH_EVENTS', 20_000),
  kafkaEvents: int('BENCH_KAFKA_EVENTS', int('BENCH_EVENTS', 20_000)),
  /** Person creations through the directory's outbox path (and plain pg transactions). */
  outboxEvents: int('BENCH_OUTBOX_EVENTS', 4_000),
  /** Events per `publish()` call and batches awaiting confirms at once. */
  batchSize: int('BENCH_BATCH', 100),
  inFlight: int('BENCH_IN_FLIGHT', 4),
  /** Events published and not consumed yet, at most (the producer waits for the consumer). */
  window: int('BENCH_WINDOW', 500),
  /** The paced runs: events at a steady rate well below every path's capacity, in small batches. */
  pacedEvents: int('BENCH_PACED_EVENTS', 2_000),
  pacedRate: int('BENCH_PACED_RATE', 1_000),
  pacedBatch: int('BENCH_PACED_BATCH', 10),
  /**
   * RabbitMQ prefetch of the raw consumer and `concurrency` of the adapter's subscription (the
   * adapter's default is 16). Kafka keeps the adapter's default (3 partitions at once).
   */
  prefetch: int('BENCH_PREFETCH', 16),
  /** Concurrent writers on the outbox path (requests in flight in one directory instance). */
  writers: int('BENCH_WRITERS', 8),
  /** Events pushed through each path, unmeasured, before its measured run (JIT, connections, caches). */
  warmup: int('BENCH_WARMUP', 2_000),
  /** Raw/adapter pairs per broker; each path reports its best (highest throughput) run. */
  rounds: int('BENCH_ROUNDS', 3),
  /** Seconds a path may take before it is reported as failed. */
  timeoutSeconds: int('BENCH_TIMEOUT', 60),
  amqpUrl: process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
  kafkaBrokers: (process.env['TEST_KAFKA_URL'] ?? 'kafka://127.0.0.1:9092').replace(/^kafka:\/\//, ''),
  /** `BENCH_SKIP=kafka,outbox`: paths left out (memory, rabbitmq, kafka, outbox, postgres). */
  skip: (path: string): boolean => skip.has(path),
  /** Per run, so that runs never see each other's queues, topics or groups. */
  namespace: `bench-${randomUUID().slice(0, 8)}`,
  target: 0.7,
};

/** Warnings and errors of the buses to stderr, the rest dropped. */
export const benchLogger: BusLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => console.error(`  warn: ${msg}`, JSON.stringify(obj)),
  error: (obj, msg) => console.error(`  error: ${msg}`, JSON.stringify(obj)),
};

export const progress = (msg: string): void => {
  console.error(`  ${new Date().toISOString().slice(11, 19)} ${msg}`);
};
