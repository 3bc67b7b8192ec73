// Issue 16 item 10: a subscriber that validates what it receives against our AsyncAPI document
// succeeds. These helpers act as that subscriber would: the committed asyncapi.yaml, a JSON Schema
// validator (ajv), and the headers and body exactly as the broker client hands them over.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { createEvent, type EventEnvelope } from '@roster/contracts';
import { deactivation } from '../support/events.js';

const DOCUMENT_ID = 'roster-asyncapi';

export interface WireValidator {
  /** Every schema error for one received message, as "where: what"; empty when it matches the document. */
  check(type: string, headers: Record<string, unknown>, body: string): string[];
}

export function wireValidator(): WireValidator {
  const document = parseYaml(readFileSync(new URL('../../../contracts/asyncapi.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
  // The whole document under one id, so the messages' `#/components/...` references resolve as in AsyncAPI.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string) => {
    let v = compiled.get(pointer);
    if (!v) compiled.set(pointer, (v = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` })));
    return v;
  };
  const errors = (v: ValidateFunction, what: string) => (v.errors ?? []).map((e) => `${what}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  return {
    check(type, headers, body) {
      const message = `/components/messages/${type.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const headersOk = validator(`${message}/headers`);
      const payloadOk = validator(`${message}/payload`);
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        return ['body: not JSON'];
      }
      return [
        ...(headersOk(headers) ? [] : errors(headersOk, 'headers')),
        ...(payloadOk(payload) ? [] : errors(payloadOk, 'payload')),
      ];
    },
  };
}

/**
 * Events with every kind of attribute and payload shape: integers (dataversion, subjectversion),
 * optional extensions (causation, trace context), nested objects, nulls and records.
 */
export function wireSamples(): EventEnvelope[] {
  const personId = randomUUID();
  const deactivated = deactivation(personId, 7);
  const granted = createEvent('identity', {
    type: 'login.granted', subject: personId, tenantId: randomUUID(), correlationId: randomUUID(),
    data: {
      personId, username: 'sam.sitter', temporary: true, expiresAt: new Date().toISOString(),
      delivery: { channel: 'email', template: 'staff_login_credentials', to: 'sam@example.com' },
      secret: { kid: 'notifications-1', alg: 'ECDH-ES+A256GCM', ciphertext: 'c2VhbGVk' },
      actor: { kind: 'person', personId: randomUUID(), impersonatorId: null },
    },
  });
  const step = {
    ...createEvent('scheduling', {
      type: 'cascade.step.completed', subject: deactivated.correlationid, tenantId: deactivated.tenantid, correlationId: deactivated.correlationid,
      causationId: deactivated.id,
      data: {
        operationId: deactivated.correlationid, service: 'scheduling', step: 'unassign_future_visits', outcome: 'applied',
        counts: { visitsUnassigned: 3 }, durationMs: 4.2, causeEventId: deactivated.id, causeType: deactivated.type, dryRun: false, detail: null,
      },
    }),
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'roster=1',
  };
  return [deactivated, granted, step];
}

/** Asserts that each sample arrived (by id) and matches the document. */
export function assertAllValid(validator: WireValidator, received: { headers: Record<string, unknown>; body: string }[], samples: EventEnvelope[], idHeader: string): void {
  for (const sample of samples) {
    const message = received.find((m) => m.headers[idHeader] === sample.id);
    assert.ok(message, `${sample.type} was not received`);
    assert.deepEqual(validator.check(sample.type, message.headers, message.body), [], `${sample.type} as received: ${JSON.stringify(message.headers)}`);
  }
}
