import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusObserver } from './bus/types.js';
import { beforeDeadline } from './deadline.js';

export interface ServiceMetrics {
  registry: Registry;
  /** Counts published events, consumed events by outcome, dead letters and consumer lag. */
  busObserver: BusObserver;
  /** `http_request_duration_seconds` and `http_requests_total` by method, route and status code. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** `roster_outbox_pending` and `roster_outbox_oldest_age_seconds`. */
  setOutboxLag(pendingCount: number, oldestAgeSeconds: number): void;
  /** `roster_dead_letters_total` (the bus observer increments it too). */
  deadLetters: Counter<'group' | 'type'>;
  /**
   * `roster_dead_letter_depth{group}` for `groups`, asked of `depthOf` (the bus) when scraped: at
   * most once per group every `cacheMs` (`DEAD_LETTER_DEPTH_CACHE_MS`), and never for longer
   * than `timeoutMs` (`DEAD_LETTER_DEPTH_TIMEOUT_MS`). When the bus cannot tell (broker down, no
   * answer in time) the gauge keeps its last value; a group never measured has no series yet.
   */
  watchDeadLetterDepth(
    groups: readonly string[], depthOf: (group: string) => Promise<number>, options?: { cacheMs?: number; timeoutMs?: number },
  ): void;
  /** `roster_token_revocations_total`: subjects whose tokens this instance started refusing, by reason (B2). */
  revocations(reason: string): void;
  /** `roster_cascade_step_duration_seconds` by step and outcome (rule 9); `recordStep` feeds it. */
  observeCascadeStep(step: string, outcome: string, seconds: number): void;
  /** `roster_periodic_failures_total`: a periodic job's failed runs (`run`) or items it went past (`item`), by job. */
  periodicFailure(job: string, scope: 'run' | 'item'): void;
}

/**
 * The latest metrics created for each service in this process: `recordStep` (steps.ts) runs
 * inside a handler's transaction with no service context at hand, so it finds its service's
 * histogram here by the step's service name.
 */
const cascadeStepObservers = new Map<string, (step: string, outcome: string, seconds: number) => void>();

/** Observes one cascade step's duration in the metrics of `service`, if this process runs it. */
export function observeCascadeStep(service: string, step: string, outcome: string, seconds: number): void {
  cascadeStepObservers.get(service)?.(step, outcome, seconds);
}

/** Registries that already collect the Node.js process metrics. */
const withDefaultMetrics = new WeakSet<Registry>();

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STEP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/** Scrapes closer together than this reuse the last dead-letter depth instead of asking the broker. */
export const DEAD_LETTER_DEPTH_CACHE_MS = 5_000;
/** A scrape waits this long at most for the broker's dead-letter depth. */
export const DEAD_LETTER_DEPTH_TIMEOUT_MS = 3_000;

/**
 * The Prometheus metrics of one service instance, in a registry of its own (several services can
 * share a process), each series labelled `service`. Includes the Node.js process metrics.
 */
export function createMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (!withDefaultMetrics.has(registry)) {
    withDefaultMetrics.add(registry);
    collectDefaultMetrics({ register: registry });
  }
  const registers = [registry];

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests served, in seconds, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers,
  });
  const published = new Counter({
    name: 'roster_events_published_total',
    help: 'Events published to the bus (confirmed by the broker), by event type',
    labelNames: ['type'] as const,
    registers,
  });
  const consumed = new Counter({
    name: 'roster_events_consumed_total',
    help: 'Event deliveries to a consumer group, by type and outcome (handled, retried, dead_lettered)',
    labelNames: ['group', 'type', 'outcome'] as const,
    registers,
  });
  const lag = new Histogram({
    name: 'roster_consumer_lag_seconds',
    help: "Seconds from an event's creation to the start of each delivery attempt, by consumer group and type",
    labelNames: ['group', 'type'] as const,
    buckets: LAG_BUCKETS,
    registers,
  });
  const deadLetters = new Counter({
    name: 'roster_dead_letters_total',
    help: 'Events moved to the dead-letter destination of a consumer group (handler kept failing or message malformed), by type',
    labelNames: ['group', 'type'] as const,
    registers,
  });
  // Asked of the broker at scrape time (prom-client awaits `collect`), cached per group.
  let depthGroups: readonly string[] = [];
  let depthOf: ((group: string) => Promise<number>) | null = null;
  let depthCacheMs = DEAD_LETTER_DEPTH_CACHE_MS;
  let depthTimeoutMs = DEAD_LETTER_DEPTH_TIMEOUT_MS;
  const depthAsked = new Map<string, { at: number; answer: Promise<void> }>();
  const deadLetterDepth: Gauge<'group'> = new Gauge({
    name: 'roster_dead_letter_depth',
    help: 'Dead letters of a consumer group waiting in its dead-letter destination now (a redrive takes them away)',
    labelNames: ['group'] as const,
    registers,
    collect: async () => {
      const source = depthOf;
      if (!source) return;
      const now = Date.now();
      await Promise.all(depthGroups.map((group) => {
        const asked = depthAsked.get(group);
        if (asked && now - asked.at < depthCacheMs) return asked.answer;
        const answer = beforeDeadline(now + depthTimeoutMs, Promise.resolve().then(() => source(group)), `no answer within ${depthTimeoutMs} ms`)
          .then((depth) => deadLetterDepth.set({ group }, depth), () => undefined); // unknown: keep the last value
        depthAsked.set(group, { at: now, answer });
        return answer;
      }));
    },
  });
  const outboxPending = new Gauge({
    name: 'roster_outbox_pending',
    help: 'Outbox rows committed but not yet published to the bus',
    registers,
  });
  const outboxOldest = new Gauge({
    name: 'roster_outbox_oldest_age_seconds',
    help: 'Age in seconds of the oldest outbox row not yet published (0 when none)',
    registers,
  });

  const revocations = new Counter({
    name: 'roster_token_revocations_total',
    help: "Revocations applied to this instance's token verifier (a subject's not-before raised), by reason",
    labelNames: ['reason'] as const,
    registers,
  });

  const periodicFailures = new Counter({
    name: 'roster_periodic_failures_total',
    help: 'Periodic background work that failed, by job: whole runs (retried at the next tick) and items a run went past (issue 15)',
    labelNames: ['job', 'scope'] as const,
    registers,
  });

  const cascadeSteps = new Histogram({
    name: 'roster_cascade_step_duration_seconds',
    help: "Duration of this service's cascade steps (from the handler's start to the step's record), by step and outcome",
    labelNames: ['step', 'outcome'] as const,
    buckets: STEP_BUCKETS,
    registers,
  });
  const observeStep = (step: string, outcome: string, seconds: number) => cascadeSteps.observe({ step, outcome }, Math.max(0, seconds));
  cascadeStepObservers.set(service, observeStep);

  const busObserver: BusObserver = {
    published: (type) => published.inc({ type }),
    consumed: (group, type, outcome, lagMs) => {
      consumed.inc({ group, type, outcome });
      // Malformed messages have no creation time (type `unknown`, lag 0): no lag sample.
      if (type !== 'unknown') lag.observe({ group, type }, Math.max(0, lagMs) / 1000);
      if (outcome === 'dead_lettered') deadLetters.inc({ group, type });
    },
  };

  return {
    registry,
    busObserver,
    observeHttp: (method, route, status, seconds) => {
      const labels = { method: method.toUpperCase(), route, status_code: String(status) };
      httpDuration.observe(labels, seconds);
      httpRequests.inc(labels);
    },
    setOutboxLag: (pendingCount, oldestAgeSeconds) => {
      outboxPending.set(pendingCount);
      outboxOldest.set(oldestAgeSeconds);
    },
    deadLetters,
    watchDeadLetterDepth: (groups, source, options = {}) => {
      depthGroups = [...groups];
      depthOf = source;
      depthCacheMs = options.cacheMs ?? DEAD_LETTER_DEPTH_CACHE_MS;
      depthTimeoutMs = options.timeoutMs ?? DEAD_LETTER_DEPTH_TIMEOUT_MS;
      depthAsked.clear();
    },
    revocations: (reason) => revocations.inc({ reason }),
    periodicFailure: (job, scope) => periodicFailures.inc({ job, scope }),
    observeCascadeStep: observeStep,
  };
}
