import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import type { System } from './support/system.js';

interface OtlpAttribute { key: string; value: { stringValue?: string; intValue?: number | string; boolValue?: boolean } }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[]; links?: { traceId: string }[] }
interface OtlpExport { resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

const SERVER = 2;
const CONSUMER = 5;
const attr = (attributes: OtlpAttribute[] | undefined, key: string) => {
  const v = attributes?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.boolValue;
};

// Rule 9 with a real exporter: the services export their spans over OTLP/HTTP to the endpoint in
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (here a receiver in the test, standing in for a collector),
// and a deactivation arrives there as one trace from the request to scheduling's consumer.
describe('spans reach an OTLP/HTTP collector', () => {
  const bodies: OtlpExport[] = [];
  const raw: string[] = [];
  let receiver: Server;
  let system: System;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) {
          raw.push(body.toString('utf8'));
          bodies.push(JSON.parse(body.toString('utf8')) as OtlpExport);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // Before the first service starts tracing (the exporter is made once per process).
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '200';
    const { startSystem } = await import('./support/system.js');
    const { MemoryBus } = await import('@roster/platform/bus/memory');
    system = await startSystem({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'pglite' });
  });
  afterAll(async () => {
    await system?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  });

  it('exports the deactivation as one trace: from the request to the consumers of every service', async () => {
    let tenantId: string = randomUUID();
    let accountId: string = randomUUID();
    const tenant = await fetch(`${system.url('directory')}/tenants`, {
      method: 'POST', headers: { ...system.operator(tenantId), 'content-type': 'application/json' },
      body: JSON.stringify({ id: tenantId, name: 'Traced Pets', owner: { firstName: 'Ola', lastName: 'Owner', email: 'ola@example.com' } }),
    });
    if (tenant.status === 201) ({ tenantId, rootAccountId: accountId } = await tenant.json() as { tenantId: string; rootAccountId: string });
    const headers = { ...system.operator(tenantId), 'content-type': 'application/json' };
    const created = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'staff', firstName: 'Otto', lastName: 'Otlp', accountId, roleKey: 'staff' }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const res = await fetch(`${system.url('directory')}/people/${id}/deactivate`, { method: 'POST', headers, body: '{}' });
    assert.equal(res.status, 202);

    const spans = () => bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ span, resource: r.resource })))));
    const request = await waitFor('the deactivation request span at the collector', () =>
      spans().find(({ span }) => span.kind === SERVER && /deactivate/.test(String(attr(span.attributes, 'http.route') ?? span.name))), 20_000, 100);
    const traceId = request.span.traceId;
    const consumers = await waitFor('the three consumer spans in the same trace', () => {
      const found = spans().filter(({ span }) => span.traceId === traceId && span.kind === CONSUMER && span.name === 'process user.deactivated');
      const groups = new Set(found.map(({ span }) => attr(span.attributes, 'messaging.consumer.group.name')));
      return ['identity', 'scheduling', 'notifications'].every((g) => groups.has(g)) ? found : null;
    }, 20_000, 100);
    for (const { span } of consumers) {
      assert.equal(attr(span.attributes, 'roster.service'), attr(span.attributes, 'messaging.consumer.group.name'), 'a consumer span is its service\'s');
      assert.ok(span.links?.some((l) => l.traceId === traceId), 'linked to the producer');
    }
    assert.match(String(attr(request.resource.attributes, 'service.name')), /^roster-/);
    assert.equal(attr(request.span.attributes, 'roster.service'), 'directory');
    assert.doesNotMatch(raw.join('\n'), new RegExp(system.operator(tenantId)['x-operator-key']!), 'no secret reaches the collector');
  });
});
