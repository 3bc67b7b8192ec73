import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusObserver } from './bus/types.js';

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
  /** `roster_token_revocations_total`: subjects whose tokens this instance started refusing, by reason (B2). */
  revocations(reason: string): void;
  /** `roster_cascade_step_duration_seconds` by step and outcome (rule 9); `recordStep` feeds it. */
  observeCascadeStep(step: string, outcome: string, seconds: number): void;
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
    revocations: (reason) => revocations.inc({ reason }),
    observeCascadeStep: observeStep,
  };
}
