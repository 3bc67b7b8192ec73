import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MemoryBus } from '@roster/platform/bus/memory';
import { startTelemetry, type Telemetry } from '@roster/platform/telemetry';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import type { System } from './support/system.js';

// Rule 9: one request's trace reaches the consuming service's database write, through the
// outbox (the trace context is stored with the event) and the bus (the consumer span is a child
// of the request's span and links to it).
describe('a cascade is one trace, from the HTTP request to the consumer\'s database write', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let system: System;

  beforeAll(async () => {
    telemetry = startTelemetry({ service: 'e2e-test', exporter });
    // Imported after tracing starts, as a service's main does.
    const { startSystem } = await import('./support/system.js');
    system = await startSystem({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'pglite' });
  });
  afterAll(async () => {
    await system?.stop();
    await telemetry?.shutdown();
  });

  it('links POST /people/{id}/deactivate to scheduling\'s write for the sitter', async () => {
    const tenant = (await (await fetch(`${system.url('directory')}/tenants`, {
      method: 'POST', headers: { ...system.operator(randomUUID()), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Trace Pets', owner: { firstName: 'Olive', lastName: 'Owner', email: 'olive@trace.example' } }),
    })).json()) as { tenantId: string; rootAccountId: string; ownerId: string };
    const token = system.tokens.mint({ tenantId: tenant.tenantId, personId: tenant.ownerId, roles: ['owner'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'staff', firstName: 'Tia', lastName: 'Trace', accountId: tenant.rootAccountId, roleKey: 'staff' }),
    });
    const person = (await created.json()) as { id: string };
    exporter.reset();

    const res = await fetch(`${system.url('directory')}/people/${person.id}/deactivate`, { method: 'POST', headers, body: '{}' });
    assert.equal(res.status, 202);

    const spans = () => exporter.getFinishedSpans();
    const server = await waitFor('the HTTP server span', () =>
      spans().find((s) => s.kind === SpanKind.SERVER && String(s.attributes['http.route'] ?? s.name).includes('deactivate')));
    const traceId = server.spanContext().traceId;
    const inTrace = () => spans().filter((s) => s.spanContext().traceId === traceId);

    const consumer = await waitFor('scheduling\'s consumer span in the same trace', () =>
      inTrace().find((s) => s.kind === SpanKind.CONSUMER && s.name === 'process user.deactivated' && s.attributes['messaging.consumer.group.name'] === 'scheduling'));
    assert.ok(consumer.links.some((l) => l.context.traceId === traceId), 'the consumer span links to the producer context');

    const byId = new Map<string, ReadableSpan>();
    const ancestors = (span: ReadableSpan): ReadableSpan[] => {
      for (const s of inTrace()) byId.set(s.spanContext().spanId, s);
      const chain: ReadableSpan[] = [];
      let parentId = span.parentSpanContext?.spanId;
      while (parentId && byId.has(parentId)) {
        const parent = byId.get(parentId)!;
        chain.push(parent);
        parentId = parent.parentSpanContext?.spanId;
      }
      return chain;
    };
    assert.ok(ancestors(consumer).includes(server), 'the consumer span descends from the request span');

    // The outbox write happens under the request; the relay's publish is in the same trace.
    const outboxWrite = inTrace().find((s) => /INSERT INTO\s+"?outbox"?/.test(String(s.attributes['db.query.text'] ?? '')));
    assert.ok(outboxWrite && ancestors(outboxWrite).includes(server), 'the outbox write descends from the request span');
    const publish = await waitFor("the relay's publish span in the same trace", () =>
      inTrace().find((s) => s.kind === SpanKind.PRODUCER && s.name === 'outbox publish' && s.attributes['roster.service'] === 'directory'));
    assert.ok(ancestors(publish).includes(server), 'the publish span descends from the request span');
    assert.ok(publish.links.some((l) => l.context.traceId === traceId), 'and links to the request that wrote the event');

    const write = await waitFor("the write to the sitter's visits under the consumer span", () =>
      inTrace().find((s) => /\b(UPDATE|DELETE FROM)\s+(visit|schedule|person_projection)\b/.test(String(s.attributes['db.query.text'] ?? '')) && ancestors(s).includes(consumer)));
    assert.equal(write.attributes['roster.service'], 'scheduling');
    const serialized = JSON.stringify(inTrace().map((s) => s.attributes));
    assert.doesNotMatch(serialized, new RegExp(system.operator(tenant.tenantId)['x-operator-key']!), 'no secret in a span');
    assert.ok(!serialized.includes(token.split('.')[2]!), 'no token in a span');
  });
});
