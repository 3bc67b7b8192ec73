import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import {
  context,
  defaultTextMapSetter,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { PrismaInstrumentation } from '@prisma/instrumentation';

export interface Telemetry {
  tracerProvider: NodeTracerProvider;
  /** Flushes and detaches this caller's exporter (and, for the last caller, the OTLP exporter). */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** `identity`, `directory` ... (`roster-<service>` becomes the resource's `service.name`). */
  service: string;
  /** An extra exporter, fed by a SimpleSpanProcessor (tests pass an InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** Register the http, express, pg and Prisma instrumentations (default true). */
  instrument?: boolean;
}

/** The span attribute naming the Roster service a span belongs to (several may share a process). */
export const SERVICE_ATTRIBUTE = 'roster.service';
const REDACTED = '[redacted]';

// ---------------------------------------------------------------------------------------------
// Which service the running code works for, when several services share a process.

const serviceStorage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` as work of `service`: spans started inside (and in anything it schedules: servers it
 * starts listening, timers, subscriptions) get `roster.service = service`. The embedded default,
 * where four services share one process and one tracer provider, should start each service
 * inside it. A single-service process needs nothing: its one service is the default.
 */
export const runAsService = <T>(service: string, fn: () => T): T => serviceStorage.run(service, fn);

// ---------------------------------------------------------------------------------------------
// Process-wide state: one tracer provider per process, shared by every service in it.

interface State {
  provider: NodeTracerProvider;
  processors: FanOutSpanProcessor;
  /** Services with a live handle, and how many. */
  services: Map<string, number>;
  handles: number;
  otlp: SpanProcessor | undefined;
  instrumented: boolean;
}

const STATE = Symbol.for('roster.telemetry');
const globalState = globalThis as typeof globalThis & { [STATE]?: State };

/**
 * Starts tracing for `service` and returns a handle on the process's tracer provider.
 *
 * The first call creates and registers the one NodeTracerProvider of the process (resource
 * `service.name = roster-<service>`, AsyncLocalStorage context manager, W3C trace-context
 * propagator). Later calls (the embedded default starts four services in one process) reuse it:
 * their exporter is added to the same provider and the resource keeps the first name, so every
 * span also carries `roster.service` (see `runAsService`). OTel SDK 2 providers cannot gain
 * processors after construction, hence a fan-out processor of our own.
 *
 * Export: `options.exporter` through a SimpleSpanProcessor, and OTLP/HTTP through a
 * BatchSpanProcessor when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 * is set; nothing else (no console output).
 *
 * Instrumentation (`instrument !== false`, registered once per process): http (incoming and
 * outgoing; no header is recorded; `/metrics`, `/healthz`, `/readyz` are not traced), express
 * (routers and request handlers, not every middleware), pg (only inside a traced operation,
 * never the query parameters) and Prisma. This works from ESM without a loader hook because the
 * CommonJS modules that ESM imports hide from require-in-the-middle are loaded through `require`
 * here (see `primeModules`). Call it before express apps are built; it may come after `express`
 * and `pg` were imported.
 *
 * Spans never carry query-string values, userinfo or invitation tokens of URLs, nor credential
 * headers: a span processor rewrites those attributes when the span starts and when it ends.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const state = (globalState[STATE] ??= createState(options.service));
  state.services.set(options.service, (state.services.get(options.service) ?? 0) + 1);
  state.handles++;

  const own = options.exporter ? new SimpleSpanProcessor(options.exporter) : undefined;
  if (own) state.processors.add(own);
  if (!state.otlp && otlpConfigured()) {
    state.otlp = new BatchSpanProcessor(new OTLPTraceExporter());
    state.processors.add(state.otlp);
  }
  if (options.instrument !== false && !state.instrumented) {
    state.instrumented = true;
    instrument();
  }

  let closed = false;
  return {
    tracerProvider: state.provider,
    shutdown: async () => {
      if (closed) return;
      closed = true;
      state.handles--;
      const left = (state.services.get(options.service) ?? 1) - 1;
      if (left > 0) state.services.set(options.service, left);
      else state.services.delete(options.service);
      if (own) {
        state.processors.remove(own);
        await own.shutdown();
      }
      if (state.handles === 0 && state.otlp) {
        const otlp = state.otlp;
        state.otlp = undefined;
        state.processors.remove(otlp);
        await otlp.shutdown();
      }
    },
  };
}

function createState(service: string): State {
  const processors = new FanOutSpanProcessor([new RosterSpanProcessor(() => state.services)]);
  const provider = new NodeTracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (pod name, version ...) win over the default.
    resource: defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: `roster-${service}`, 'service.namespace': 'roster' }))
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [processors],
    // OTEL_TRACES_SAMPLER, when set, wins (the SDK reads it when no sampler is given).
    ...(process.env['OTEL_TRACES_SAMPLER'] ? {} : { sampler: new ParentBasedSampler({ root: new RootSampler(() => processors.exporting) }) }),
  });
  // The default context manager of NodeTracerProvider is the AsyncLocalStorage one.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const state: State = { provider, processors, services: new Map(), handles: 0, otlp: undefined, instrumented: false };
  return state;
}

const otlpConfigured = (): boolean =>
  Boolean(process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);

const NOT_TRACED_PATHS = /^\/(?:metrics|healthz|readyz|livez)(?:[/?]|$)/;

function instrument(): void {
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => NOT_TRACED_PATHS.test(req.url ?? ''),
        // headersToSpanAttributes is left unset: no header becomes an attribute.
      }),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new PgInstrumentation({
        enhancedDatabaseReporting: false,
        requireParentSpan: true,
        addSqlCommenterCommentToQueries: false,
      }),
      new PrismaInstrumentation(),
    ],
  });
  primeModules();
}

/**
 * The instrumentations patch modules when they are loaded through `require` (require-in-the-middle).
 * From ESM that misses two cases, found by test (Node 20, tsx):
 * - `import http from 'node:http'` never goes through `require`: unless some CommonJS module
 *   requires `http` later, the server is not patched. Requiring it here patches `Server.prototype`
 *   and the `http`/`https` exports (synced to the ESM named exports).
 * - `import express from 'express'` loads express's entry without `require` (its internal files
 *   do go through it, which is why pg, patched through `pg/lib/client.js`, works either way). Once
 *   express is in the CommonJS cache (loaded by us here, or earlier by an ESM import), requiring it
 *   applies the patch to the shared exports (express 5 is patched on `Router.prototype` and
 *   `application`), so ESM importers see it.
 * pg (and pg-pool) are required only when something already loaded them (their prototypes get
 * patched the same way).
 * The import-in-the-middle loader hook is therefore not needed for these modules.
 */
function primeModules(): void {
  const require = createRequire(import.meta.url);
  const load = (id: string, onlyIfLoaded = false): void => {
    try {
      if (onlyIfLoaded && !require.cache[require.resolve(id)]) return;
      require(id);
    } catch {
      // not installed where this package can resolve it: nothing to instrument
    }
  };
  load('node:http');
  load('node:https');
  syncBuiltinESMExports();
  load('express');
  load('pg', true);
  load('pg-pool', true);
}

/**
 * Roster's root sampler. Root spans of database clients (pool pings, the outbox relay's polls) are
 * not recorded. Nor is anything while no exporter is attached (no OTLP endpoint, no test
 * exporter): recording spans nobody receives cost a login about 0.5 ms of CPU, next to an 8 ms
 * hash (bench/logins). Trace ids still exist then, for logs and the events' trace context.
 */
class RootSampler implements Sampler {
  constructor(private readonly exporting: () => boolean) {}
  shouldSample(_ctx: Context, _traceId: string, name: string): SamplingResult {
    const database = name.startsWith('prisma:') || name.startsWith('pg.');
    return { decision: database || !this.exporting() ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED };
  }
  toString(): string {
    return 'RosterRootSampler';
  }
}

/** The processors of the process's provider: the Roster processor first, then the exporters. */
class FanOutSpanProcessor implements SpanProcessor {
  constructor(private processors: SpanProcessor[]) {}
  add(p: SpanProcessor): void {
    this.processors = [...this.processors, p];
  }
  remove(p: SpanProcessor): void {
    this.processors = this.processors.filter((x) => x !== p);
  }
  /** Whether any exporter is attached (the first processor is Roster's own, which exports nothing). */
  get exporting(): boolean {
    return this.processors.length > 1;
  }
  onStart(span: Span, parentContext: Context): void {
    for (const p of this.processors) p.onStart(span, parentContext);
  }
  onEnding(span: Span): void {
    for (const p of this.processors) p.onEnding?.(span);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown()));
  }
}

// ---------------------------------------------------------------------------------------------
// Service attribution and redaction of span attributes.

const URL_ATTRIBUTES = ['url.full', 'http.url', 'url.original'];
const TARGET_ATTRIBUTES = ['url.path', 'http.target'];
const QUERY_ATTRIBUTES = ['url.query'];
const SECRET_HEADERS = /^http\.(?:request|response)\.header\.(?:authorization|proxy-authorization|cookie|set-cookie|x-operator-key)$/i;
/** Path segments that are secrets themselves (the invitation token of `POST /invitations/{token}/accept`). */
const SECRET_PATHS: Array<[RegExp, string]> = [[/(\/invitations\/)[^/?#]+(\/accept)/g, `$1${REDACTED}$2`]];

const redactQuery = (query: string): string =>
  query.replace(/([^&=?#]+)=[^&#]*/g, (_m, key: string) => `${key}=${REDACTED}`);

/** Hides query values, secret path segments and userinfo (`user:pass@`) in a URL or a path. */
export function redactUrlForTrace(url: string): string {
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, `$1${REDACTED}@`);
  const q = out.indexOf('?');
  if (q >= 0) {
    const hash = out.indexOf('#', q);
    const end = hash >= 0 ? hash : out.length;
    out = `${out.slice(0, q + 1)}${redactQuery(out.slice(q + 1, end))}${out.slice(end)}`;
  }
  for (const [pattern, replacement] of SECRET_PATHS) out = out.replace(pattern, replacement);
  return out;
}

class RosterSpanProcessor implements SpanProcessor {
  constructor(private readonly services: () => ReadonlyMap<string, number>) {}

  onStart(span: Span, parentContext: Context): void {
    const service = this.serviceOf(span, parentContext);
    if (service) span.setAttribute(SERVICE_ATTRIBUTE, service);
    scrub(span);
  }

  onEnding(span: Span): void {
    scrub(span);
  }

  onEnd(): void {}
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}

  /**
   * A consumer span belongs to its consumer group (the service), whatever context the transport
   * delivered in; other spans inherit their local parent's service, then the `runAsService`
   * context, then the process's only service.
   */
  private serviceOf(span: Span, parentContext: Context): string | undefined {
    const group = span.attributes['messaging.consumer.group.name'];
    if (span.kind === SpanKind.CONSUMER && typeof group === 'string') return group;
    const parent = trace.getSpan(parentContext) as unknown as { attributes?: Attributes } | undefined;
    const inherited = parent?.attributes?.[SERVICE_ATTRIBUTE];
    if (typeof inherited === 'string') return inherited;
    const current = serviceStorage.getStore();
    if (current) return current;
    const services = this.services();
    return services.size === 1 ? [...services.keys()][0] : undefined;
  }
}

function scrub(span: Span): void {
  const attributes = span.attributes;
  const rewrite = (key: string, value: AttributeValue | undefined, redact: (s: string) => string): void => {
    if (typeof value !== 'string') return;
    const redacted = redact(value);
    if (redacted !== value) span.setAttribute(key, redacted);
  };
  for (const key of URL_ATTRIBUTES) rewrite(key, attributes[key], redactUrlForTrace);
  for (const key of TARGET_ATTRIBUTES) rewrite(key, attributes[key], redactUrlForTrace);
  for (const key of QUERY_ATTRIBUTES) rewrite(key, attributes[key], redactQuery);
  for (const key of Object.keys(attributes)) {
    if (SECRET_HEADERS.test(key)) span.setAttribute(key, REDACTED);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for code that starts spans and stamps events.

const propagator = new W3CTraceContextPropagator();
const tracer = trace.getTracer('@roster/platform');

/** The active trace context as W3C `traceparent`/`tracestate`, for stamping on events. */
export function currentTraceparent(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  const out: { traceparent?: string; tracestate?: string } = {};
  if (carrier['traceparent']) out.traceparent = carrier['traceparent'];
  if (carrier['tracestate']) out.tracestate = carrier['tracestate'];
  return out;
}

/**
 * Runs `fn` in a new active span (`kind` defaults to INTERNAL); a rejection is recorded on the
 * span (exception event, status ERROR) and rethrown.
 */
export function withSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      span.recordException(e);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      throw error;
    } finally {
      span.end();
    }
  });
}
