import { randomUUID, timingSafeEqual } from 'node:crypto';
import { isUuid, unstorableJson, unstorableText } from '@roster/contracts';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { TrustProxy } from '../config.js';
import { runInWork } from '../context.js';
import type { Logger } from '../logging.js';
import type { ServiceMetrics } from '../metrics.js';
import { DomainError } from '../errors.js';
import { HttpProblem, notFound, unauthorized, validationProblem } from './problem.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  metrics: ServiceMetrics;
  readiness: ReadinessCheck[];
  routes: Router;
  /** Non-JSON routes (hosted pages, OAuth endpoints), before the JSON-only body handling. */
  pages?: Router;
  /** Request bodies above this are refused with 413 (default 256 KiB). */
  bodyLimit?: string;
  /**
   * Proxies whose X-Forwarded-For names the client (TRUST_PROXY), so that `req.ip` is the
   * client's address behind an ingress rather than the ingress's; none by default.
   */
  trustProxy?: TrustProxy;
}

const CORRELATION_HEADER = 'x-correlation-id';
const validCorrelation = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * The HTTP kit every service uses: JSON only, problem+json for every error (invalid JSON 400,
 * oversize 413, unknown route 404, validation 400 with each field), a correlation id per request
 * (taken from `x-correlation-id` when valid, echoed back) carried by logs and by the events the
 * request causes, `/healthz`, `/readyz` (database and bus) and `/metrics`.
 */
export function createHttpApp(options: HttpAppOptions): express.Express {
  const { logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  // Untrusted, X-Forwarded-For is ignored: a client could otherwise pick its own address.
  app.set('trust proxy', options.trustProxy ?? false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const given = req.get(CORRELATION_HEADER);
    const correlationId = given && validCorrelation.test(given) ? given : randomUUID();
    res.setHeader(CORRELATION_HEADER, correlationId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req, res.statusCode);
      metrics.observeHttp(req.method, route, res.statusCode, seconds);
      if (!req.path.startsWith('/metrics') && !req.path.startsWith('/healthz') && !req.path.startsWith('/readyz')) {
        logger.info({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
      }
    });
    runInWork({ correlationId, causationId: correlationId }, () => next());
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok', service: options.service }));
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      options.readiness.map(async (c) => [c.name, await Promise.resolve(c.check()).catch(() => false)] as const),
    );
    const ready = results.every(([, ok]) => ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  if (options.pages) app.use(options.pages);

  app.use(express.json({
    limit: options.bodyLimit ?? '256kb', type: ['application/json', 'application/*+json'],
    // The bytes as sent, for signature checks (provider status callbacks sign the raw body).
    verify: (req, _res, buf) => void ((req as Request & { rawBody?: Buffer }).rawBody = buf),
  }));
  app.use((req, _res, next) => {
    // A body that is not JSON is refused rather than silently ignored.
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && Number(req.get('content-length') ?? 0) > 0 && !req.is(['application/json', 'application/*+json'])) {
      return next(new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'send the body as application/json'));
    }
    next();
  });
  // What Postgres cannot store never reaches a handler (issue 15): NUL, lone surrogates, absurd nesting.
  app.use((req, _res, next) => {
    const found = unstorableRequest(req);
    if (found) return next(new HttpProblem(400, 'validation', 'Invalid request', `${found.path} ${found.problem}`, { errors: [{ path: found.path, message: found.problem }] }));
    next();
  });
  app.use(options.routes);
  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return app;
}

/**
 * The route template of a request (`/invitations/:token/accept`) for logs and metric labels: paths
 * may carry secrets and would make unbounded label sets. Requests refused before routing (bad
 * JSON, wrong media type) count as `unrouted`, unknown paths as `unmatched`.
 */
function routeOf(req: Request, status: number): string {
  if (req.route?.path) return `${req.baseUrl}${String(req.route.path)}`;
  if (['/healthz', '/readyz', '/metrics'].includes(req.path)) return req.path;
  return status === 404 ? 'unmatched' : 'unrouted';
}

function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const problem = toProblem(error);
    // The route pattern, never the path: a path can hold a secret (an invitation token).
    if (problem.status >= 500) logger.error({ err: error, method: req.method, route: routeOf(req, problem.status) }, 'request failed');
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toJSON(req.originalUrl)));
  };
}

function toProblem(error: unknown): HttpProblem {
  if (error instanceof DomainError) return HttpProblem.of(error);
  const e = error as { type?: string; status?: number; limit?: number; message?: string };
  if (e?.type === 'entity.parse.failed') return new HttpProblem(400, 'invalid-json', 'Invalid JSON', 'the request body is not valid JSON');
  if (e?.type === 'entity.too.large') {
    return new HttpProblem(413, 'payload-too-large', 'Payload too large', `the request body exceeds ${e.limit} bytes`);
  }
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', e.message);
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpProblem(e.status, 'bad-request', 'Bad request', e.message);
  }
  return new HttpProblem(500, 'internal', 'Internal server error', 'the request failed; see the service logs with its correlation id');
}

/** Parses `req.body` / `req.query` / `req.params` with a zod schema or throws a 400 listing every invalid field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params' = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}

/**
 * The operator key alone (`x-operator-key` = ROSTER_OPERATOR_KEY), compared in constant time;
 * `whenMissing` says what the caller should have sent. 401 otherwise.
 */
export function requireOperatorKey(req: Request, operatorKey: string | undefined, whenMissing: string): void {
  const given = req.get('x-operator-key');
  if (!given) throw unauthorized(whenMissing);
  if (!operatorKey) throw unauthorized('this service has no operator key configured (ROSTER_OPERATOR_KEY)');
  const a = Buffer.from(given);
  const b = Buffer.from(operatorKey);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw unauthorized('the operator key is not valid');
}

/**
 * The operator channel (`x-operator-key`, ROSTER_OPERATOR_KEY): provisioning done by the platform
 * team on behalf of a tenant named in `x-roster-tenant`. Compared in constant time.
 */
export function operatorTenant(req: Request, operatorKey: string | undefined): string {
  requireOperatorKey(req, operatorKey, 'missing credentials: send Authorization: Bearer <token> or x-operator-key');
  const tenant = req.get('x-roster-tenant');
  if (!isUuid(tenant)) {
    throw new HttpProblem(400, 'tenant-required', 'Tenant required', 'the operator acts on one tenant: send its id in x-roster-tenant');
  }
  return tenant.toLowerCase();
}

/** The first unstorable text of a request: its path, query, body or tenant header. */
function unstorableRequest(req: Request): { path: string; problem: string } | null {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return { path: 'path', problem: 'is not valid percent-encoding' };
  }
  const inPath = unstorableText(path);
  if (inPath) return { path: 'path', problem: inPath };
  return unstorableJson(req.query, 'query')
    ?? (req.body !== undefined ? unstorableJson(req.body, 'body') : null)
    ?? unstorableJson({ 'x-roster-tenant': req.get('x-roster-tenant') ?? '' }, 'header');
}
