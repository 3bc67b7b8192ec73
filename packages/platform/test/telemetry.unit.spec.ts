// Static imports of express, node:http and pg on purpose: in the services they are loaded before
// telemetry starts, and the instrumentation must still work (see primeModules in telemetry.ts).
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, describe, it } from '@jest/globals';
import express from 'express';
import pg from 'pg';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MemoryBus } from '../src/bus/memory.js';
import { currentTraceparent, runAsService, startTelemetry, withSpan } from '../src/telemetry.js';
import { deactivation } from './support/events.js';
import { waitFor } from './support/wait.js';

const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ service: 'identity', exporter });
afterAll(() => telemetry.shutdown());

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const spanNamed = (name: string, trace?: string): ReadableSpan | undefined =>
  spans().find((s) => s.name === name && (!trace || s.spanContext().traceId === trace));
const allText = (s: ReadableSpan): string => JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events });

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}
const close = (server: http.Server | net.Server): Promise<void> =>
  new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });

describe('startTelemetry', () => {
  it('registers one provider: resource roster-<service>, W3C propagation, spans tagged with the service', async () => {
    assert.ok(telemetry.tracerProvider);
    await withSpan('grant login', { 'roster.person_id': 'p-1', bulk: false, count: 3 }, async () => {
      assert.ok(trace.getActiveSpan()?.isRecording());
    });
    const span = spanNamed('grant login');
    assert.ok(span);
    assert.equal(span.kind, SpanKind.INTERNAL);
    assert.deepEqual(
      { person: span.attributes['roster.person_id'], bulk: span.attributes['bulk'], count: span.attributes['count'] },
      { person: 'p-1', bulk: false, count: 3 },
    );
    assert.equal(span.attributes['roster.service'], 'identity');
    assert.equal(span.resource.attributes['service.name'], 'roster-identity');
  });

  it('withSpan records a failure on the span and rethrows it', async () => {
    await assert.rejects(withSpan('doomed', {}, async () => Promise.reject(new Error('boom'))), /boom/);
    const span = spanNamed('doomed');
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.status.message, 'boom');
    assert.equal(span?.events[0]?.name, 'exception');
  });

  it('currentTraceparent gives the active span as W3C trace context, and nothing outside a span', async () => {
    assert.deepEqual(context.with(ROOT_CONTEXT, () => currentTraceparent()), {});
    let seen: { traceparent?: string } = {};
    let ids = { traceId: '', spanId: '' };
    await withSpan('stamp', {}, async () => {
      seen = currentTraceparent();
      ids = trace.getActiveSpan()!.spanContext();
    });
    assert.equal(seen.traceparent, `00-${ids.traceId}-${ids.spanId}-01`);
  });

  it('continues the producer trace in the consumer span (child and link) through the bus', async () => {
    const bus = new MemoryBus();
    let handlerTrace: string | undefined;
    const sub = await bus.subscribe({
      group: 'scheduling',
      types: ['user.deactivated'],
      handler: async () => {
        handlerTrace = trace.getActiveSpan()?.spanContext().traceId;
      },
    });
    const event = deactivation('p-42');
    const producer = await withSpan('publish user.deactivated', { 'messaging.destination.name': 'user.deactivated' }, async () => {
      const tp = currentTraceparent();
      if (tp.traceparent) event.traceparent = tp.traceparent;
      return trace.getActiveSpan()!.spanContext();
    }, SpanKind.PRODUCER);
    // Published outside of any context: only the traceparent on the event can carry the trace.
    await context.with(ROOT_CONTEXT, () => bus.publish([event]));
    const consumer = await waitFor('consumer span', () => spanNamed('process user.deactivated', producer.traceId));
    await sub.close();

    assert.equal(spanNamed('publish user.deactivated')?.kind, SpanKind.PRODUCER);
    assert.equal(consumer.kind, SpanKind.CONSUMER);
    assert.equal(consumer.spanContext().traceId, producer.traceId);
    assert.equal(consumer.parentSpanContext?.spanId, producer.spanId);
    assert.equal(consumer.links.length, 1);
    assert.equal(consumer.links[0]?.context.spanId, producer.spanId);
    assert.equal(consumer.links[0]?.context.traceId, producer.traceId);
    assert.equal(handlerTrace, producer.traceId);
    // The consumer group names the service, whoever published.
    assert.equal(consumer.attributes['roster.service'], 'scheduling');
  });
});

describe('HTTP instrumentation (ESM, node:http imported before telemetry started)', () => {
  it('records a server span for a fetch, continues the caller trace, and leaks no secret', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    const port = await runAsService('directory', () => listen(server));
    try {
      const caller = await withSpan('client call', {}, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/invitations/inv-tok-SECRET/accept?token=qs-SECRET&page=2`, {
          method: 'POST',
          headers: { authorization: 'Bearer jwt-SECRET', cookie: 'sid=cookie-SECRET', 'x-operator-key': 'op-SECRET', ...currentTraceparent() },
          body: JSON.stringify({ password: 'body-SECRET' }),
        });
        await res.text();
        return trace.getActiveSpan()!.spanContext();
      });
      const span = await waitFor('server span', () => spans().find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === caller.traceId));
      assert.equal(span.instrumentationScope.name, '@opentelemetry/instrumentation-http');
      assert.equal(span.parentSpanContext?.spanId, caller.spanId);
      assert.equal(span.attributes['http.request.method'], 'POST');
      assert.equal(span.attributes['http.response.status_code'], 200);
      assert.equal(span.attributes['url.path'], '/invitations/[redacted]/accept');
      assert.equal(span.attributes['url.query'], 'token=[redacted]&page=[redacted]');
      // The server was started as work of directory: its spans say so.
      assert.equal(span.attributes['roster.service'], 'directory');
      assert.doesNotMatch(allText(span), /SECRET|Bearer|authorization|cookie|operator/i);
    } finally {
      await close(server);
    }
  });

  it('does not trace /metrics, /healthz and /readyz', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    const port = await listen(server);
    try {
      for (const path of ['/metrics', '/healthz', '/readyz']) await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
      await (await fetch(`http://127.0.0.1:${port}/traced`)).text();
      await waitFor('traced request', () => spans().some((s) => s.attributes['url.path'] === '/traced'));
      assert.ok(!spans().some((s) => ['/metrics', '/healthz', '/readyz'].includes(String(s.attributes['url.path']))));
    } finally {
      await close(server);
    }
  });
});

describe('express instrumentation (express imported before telemetry started)', () => {
  it('names the server span after the route and records the request handler', async () => {
    const app = express();
    app.use(express.json());
    app.get('/people/:id', (req, res) => void res.json({ id: req.params.id }));
    const server = http.createServer(app);
    const port = await listen(server);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/people/p-7?q=SECRET`);
      assert.deepEqual(await res.json(), { id: 'p-7' });
      const serverSpan = await waitFor('server span', () => spans().find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === '/people/p-7'));
      assert.equal(serverSpan.attributes['http.route'], '/people/:id');
      assert.equal(serverSpan.name, 'GET /people/:id');
      const traceId = serverSpan.spanContext().traceId;
      const handler = await waitFor('request handler span', () =>
        spans().find((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-express' && s.spanContext().traceId === traceId));
      assert.equal(handler.attributes['express.type'], 'request_handler');
      assert.equal(handler.attributes['http.route'], '/people/:id');
      // Middleware layers (json parser ...) are not traced, only routers and handlers.
      assert.ok(!spans().some((s) => s.spanContext().traceId === traceId && s.attributes['express.type'] === 'middleware'));
      assert.doesNotMatch(allText(serverSpan), /SECRET/);
    } finally {
      await close(server);
    }
  });
});

/**
 * Just enough of a PostgreSQL backend for `pg` to connect and run queries (startup, simple and
 * extended protocol, every query answering `SELECT 0`), so that the pg instrumentation is tested
 * without a database server.
 */
function fakePostgres(): net.Server {
  const message = (type: string, body: Buffer = Buffer.alloc(0)): Buffer => {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(4 + body.length, 1);
    return Buffer.concat([head, body]);
  };
  const ready = message('Z', Buffer.from('I'));
  const complete = message('C', Buffer.from('SELECT 0\0'));
  const replies: Record<string, Buffer> = {
    P: message('1'), B: message('2'), D: message('n'), E: complete, S: ready, Q: Buffer.concat([complete, ready]),
  };
  return net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
          buffer = buffer.subarray(buffer.readInt32BE(0));
          started = true;
          const authOk = Buffer.alloc(4);
          socket.write(Buffer.concat([message('R', authOk), ready]));
          continue;
        }
        if (buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) return;
        const type = String.fromCharCode(buffer[0]!);
        buffer = buffer.subarray(1 + buffer.readInt32BE(1));
        if (type === 'X') return void socket.end();
        const reply = replies[type];
        if (reply) socket.write(reply);
      }
    });
    socket.on('error', () => undefined);
  });
}

describe('pg instrumentation (pg imported before telemetry started)', () => {
  it('records queries inside a traced operation, without parameter values, and no root query spans', async () => {
    assert.ok(isWrapped(pg.Client.prototype.query));
    const backend = fakePostgres();
    const port = await listen(backend);
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'roster', database: 'identity', password: 'db-SECRET' });
    try {
      await client.connect();
      await context.with(ROOT_CONTEXT, () => client.query('SELECT 1 AS untraced'));
      const op = await withSpan('set password', {}, async () => {
        await client.query('UPDATE credentials SET hash = $1 WHERE person_id = $2', ['param-SECRET', 'p-1']);
        return trace.getActiveSpan()!.spanContext();
      });
      const query = await waitFor('pg query span', () => spans().find((s) => s.name.startsWith('pg.query') && s.spanContext().traceId === op.traceId));
      assert.equal(query.parentSpanContext?.spanId, op.spanId);
      assert.equal(query.attributes['db.query.text'], 'UPDATE credentials SET hash = $1 WHERE person_id = $2');
      assert.equal(query.attributes['roster.service'], 'identity');
      assert.doesNotMatch(allText(query), /SECRET|p-1/);
      assert.ok(!spans().some((s) => String(s.attributes['db.query.text']).includes('untraced')));
    } finally {
      await client.end().catch(() => undefined);
      await close(backend);
    }
  });
});

describe('Prisma instrumentation', () => {
  it('is registered for the Prisma client to find', () => {
    const g = globalThis as Record<string, unknown>;
    assert.ok(g['PRISMA_INSTRUMENTATION'] || Object.keys(g).some((k) => k.endsWith('_PRISMA_INSTRUMENTATION')));
  });
});

describe('several services in one process', () => {
  it('share the provider; each handle adds and removes its own exporter', async () => {
    const second = new InMemorySpanExporter();
    const other = startTelemetry({ service: 'notifications', exporter: second });
    assert.equal(other.tracerProvider, telemetry.tracerProvider);
    await runAsService('notifications', () => withSpan('send e-mail', {}, async () => undefined));
    await withSpan('unattributed', {}, async () => undefined);
    const sent = second.getFinishedSpans().find((s) => s.name === 'send e-mail');
    assert.ok(sent, 'the second exporter receives spans');
    assert.ok(spanNamed('send e-mail'), 'the first one too');
    assert.equal(sent.attributes['roster.service'], 'notifications');
    // The resource keeps the first service's name; the attribute tells services apart.
    assert.equal(sent.resource.attributes['service.name'], 'roster-identity');
    // Two services and no service context: no guess.
    assert.equal(spanNamed('unattributed')?.attributes['roster.service'], undefined);
    await other.shutdown();
    await withSpan('after shutdown', {}, async () => undefined);
    assert.ok(spanNamed('after shutdown'));
    assert.equal(second.getFinishedSpans().length, 0, 'the second exporter was shut down and detached');
  });
});
