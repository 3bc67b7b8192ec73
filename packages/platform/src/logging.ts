import { hostname } from 'node:os';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import {
  pino,
  stdSerializers,
  stdTimeFunctions,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger as PinoLogger,
} from 'pino';
import { currentWork } from './context.js';

export type Logger = PinoLogger;

/** Field names whose value is a credential wherever it appears (rule 5). */
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'temporaryPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'secret',
  'clientSecret',
  'apiKey',
  'privateKey',
  // sealed secrets in events: `{ keyId, ciphertext }`
  'ciphertext',
  // headers, when a headers object is logged
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-operator-key',
] as const;

/** Nesting levels covered by the wildcards of `REDACTED_PATHS`: `key`, `*.key`, `*.*.key`, `*.*.*.key`. */
const WILDCARD_DEPTH = 3;

/** Paths that are known to hold secrets below the wildcard depth or under other names. */
const KNOWN_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-operator-key"]',
  'request.headers.authorization',
  'request.headers.cookie',
  'request.headers["x-operator-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-operator-key"]',
  // events (the envelope logged as `event`, or its payload as `data`)
  'data.secret',
  'data.token',
  'event.data.secret',
  'event.data.token',
  'event.data.temporaryPassword',
  'envelope.data.secret',
  'envelope.data.token',
  '*.event.data.secret',
  '*.event.data.token',
];

const segment = (key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`);

function wildcardPaths(key: string): string[] {
  const seg = segment(key);
  const paths = [seg];
  for (let depth = 1; depth <= WILDCARD_DEPTH; depth++) {
    const prefix = Array.from({ length: depth }, () => '*').join('.');
    paths.push(seg.startsWith('[') ? `${prefix}${seg}` : `${prefix}.${seg}`);
  }
  return paths;
}

/**
 * The redaction rule as pino `redact.paths` (explicit depth: each secret key at the top level and
 * 1 to 3 levels down, plus the known request and event paths), for pino instances configured
 * elsewhere (pino-http, a transport). `createLogger` applies the same keys at any depth with a
 * faster walk of its own: pino's wildcard paths cost about 70-100 µs per line (measured, pino 10),
 * the walk about 0.2 µs.
 */
export const REDACTED_PATHS: string[] = [...new Set([...SECRET_KEYS.flatMap(wildcardPaths), ...KNOWN_PATHS])];

const CENSOR = '[redacted]';
const SECRET_KEY_SET: ReadonlySet<string> = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
/** Objects nested deeper than this are logged as they are (and cycles stop here). */
const MAX_DEPTH = 12;

/** Objects that JSON-serialize themselves (Date, Buffer, Decimal ...) are written as they are. */
const serializesItself = (value: object): boolean => typeof (value as { toJSON?: unknown }).toJSON === 'function';

/**
 * A copy of `value` in which every property named like a secret (case-insensitive, at any depth
 * of objects and arrays, as JSON would write them) is `[redacted]`; what needs no change is shared,
 * never mutated. Errors, under any key, are serialized as pino's `err` serializer does (type,
 * message, stack, cause and own properties), then redacted.
 */
function redactValue(value: unknown, depth = 0, force = false): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const redacted = redactValue(item, depth + 1);
      if (redacted !== item) (copy ??= value.slice())[i] = redacted;
    }
    return copy ?? value;
  }
  if (value instanceof Error) return redactValue(stdSerializers.err(value), depth, true);
  if (!force && serializesItself(value)) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const redacted = SECRET_KEY_SET.has(key.toLowerCase()) ? CENSOR : redactValue(item, depth + 1);
    if (redacted !== item) (copy ??= { ...record })[key] = redacted;
  }
  return copy ?? value;
}

const redactRecord = (record: Record<string, unknown>): Record<string, unknown> =>
  redactValue(record, 0, true) as Record<string, unknown>;

function defaultLevel(): string {
  if (process.env['LOG_LEVEL']) return process.env['LOG_LEVEL'];
  return process.env['NODE_ENV'] === 'test' ? 'silent' : 'info';
}

/**
 * The JSON logger of a service. Every line carries `service` and, when set, the work context
 * (`correlationId`, `causationId`, `tenantId`) and the active span (`traceId`, `spanId`), so that
 * a cascade's logs join its trace (rule 9). Credentials are redacted (rule 5): every property
 * named like one (`password`, `token`, `secret`, `ciphertext`, `authorization`, `cookie`,
 * `x-operator-key` ... see `SECRET_KEYS`) is written `[redacted]`, at any depth.
 *
 * Level: `options.level`, else `LOG_LEVEL`, else `info` (`silent` under `NODE_ENV=test`).
 */
export function createLogger(service: string, options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? defaultLevel(),
      base: { service, pid: process.pid, hostname: hostname() },
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Secrets never reach the output: the logged object (errors included) is redacted here,
        // child bindings below (pino applies no formatter to them).
        log: redactRecord,
      },
      // Errors were serialized (and redacted) by the formatter already.
      serializers: { err: (value: unknown) => (value instanceof Error ? redactValue(value) : value) },
      mixin: logContext,
    },
    options.destination ?? stdoutDestination(),
  );
  // Children are created from the root by prototype, so they inherit these overrides.
  const child = logger.child as unknown as (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const setBindings = logger.setBindings as (this: Logger, bindings: Bindings) => void;
  logger.child = function (this: Logger, bindings: Bindings, childOptions?: ChildLoggerOptions) {
    return child.call(this, redactRecord(bindings), childOptions);
  } as unknown as Logger['child'];
  logger.setBindings = function (this: Logger, bindings: Bindings) {
    setBindings.call(this, redactRecord(bindings));
  };
  return logger;
}

let stdout: DestinationStream | undefined;
/**
 * Where log lines go by default: stdout, written synchronously (nothing lost in a crash, lines in
 * order), but never held hostage by its reader. A reader that stops reading (a closed terminal,
 * a stuck pipe) makes writes fail with EAGAIN; pino's default retries that forever, blocking the
 * whole process (a SIGTERM then never gets handled). Here a write is retried for at most a second,
 * then the line waits in a bounded buffer (16 MiB; beyond it lines are dropped) and the service
 * goes on; a reader that went away for good (EPIPE) just stops getting lines.
 */
export function stdoutDestination(): DestinationStream {
  if (stdout) return stdout;
  let episodeStart = 0;
  let lastRetry = 0;
  const boundedRetry = (): boolean => {
    const now = Date.now();
    if (now - lastRetry > 500) episodeStart = now; // a new episode of back-pressure
    lastRetry = now;
    return now - episodeStart < 1_000;
  };
  const destination = pino.destination({ fd: 1, sync: true, retryEAGAIN: boundedRetry, maxLength: 16 * 1024 * 1024 } as Parameters<typeof pino.destination>[0]);
  // EAGAIN past the retries, EPIPE: not a reason to crash; the line stays buffered or is gone.
  destination.on('error', () => undefined);
  stdout = destination;
  return destination;
}

function logContext(): Record<string, string> {
  const fields: Record<string, string> = {};
  const work = currentWork();
  if (work) {
    fields['correlationId'] = work.correlationId;
    if (work.causationId) fields['causationId'] = work.causationId;
    if (work.tenantId) fields['tenantId'] = work.tenantId;
  }
  const span = trace.getSpan(context.active())?.spanContext();
  if (span && isSpanContextValid(span)) {
    fields['traceId'] = span.traceId;
    fields['spanId'] = span.spanId;
  }
  return fields;
}

/**
 * Hides the password of every connection URL in `url` (`postgres://u:p@h/db` becomes
 * `postgres://u:***@h/db`; also `amqp://`, `smtp://` ...) and the value of credential query
 * parameters (`?password=`, `?sslpassword=`, `?token=`). Anything else is returned unchanged.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:@/?#\s]*:)[^@\s]*@/gi, '$1***@')
    .replace(/([?&](?:password|sslpassword|pass|secret|token|apikey|api_key|access_token)=)[^&#\s]*/gi, '$1***');
}
