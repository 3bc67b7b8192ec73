import { CORE_ATTRIBUTES, EXTENSION_ATTRIBUTES, type EventEnvelope } from '@roster/contracts';
import type { RawMessage } from './types.js';

/**
 * CloudEvents binary content mode: attributes travel as message headers, `data` as the body.
 *
 * - Kafka (CloudEvents Kafka protocol binding): headers `ce_<attribute>`, `content-type` for
 *   `datacontenttype`, the record key is the subject.
 * - AMQP 0-9-1 (RabbitMQ): the CloudEvents AMQP binding is written for AMQP 1.0 application
 *   properties named `cloudEvents:<attribute>`; Roster maps each to an AMQP 0-9-1 header of that
 *   same name (`cloudEvents:type`, `cloudEvents:tenantid` ...), `datacontenttype` to the
 *   `content-type` message property, and the event type is the routing key.
 * Integer attributes (`dataversion`, `subjectversion`) are written as decimal strings.
 */
export type HeaderStyle = 'amqp' | 'kafka';

const prefixOf = (style: HeaderStyle) => (style === 'amqp' ? 'cloudEvents:' : 'ce_');
const INTEGER_ATTRIBUTES = new Set(['dataversion', 'subjectversion']);
const ATTRIBUTES = [...CORE_ATTRIBUTES.filter((a) => a !== 'datacontenttype'), ...EXTENSION_ATTRIBUTES];

export function encode(event: EventEnvelope, style: HeaderStyle): RawMessage {
  const prefix = prefixOf(style);
  const headers: Record<string, string> = { 'content-type': event.datacontenttype };
  const record = event as unknown as Record<string, unknown>;
  for (const name of ATTRIBUTES) {
    const value = record[name];
    if (value !== undefined && value !== null) headers[prefix + name] = String(value);
  }
  return { headers, body: JSON.stringify(event.data) };
}

/**
 * Rebuilds the envelope object from headers and body. Never throws: what it cannot read is left
 * out or kept as a string, and `parseEvent` then says precisely what is wrong.
 */
export function decode(message: RawMessage, style: HeaderStyle): Record<string, unknown> {
  const prefix = prefixOf(style);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.headers)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    out[name] = INTEGER_ATTRIBUTES.has(name) && /^\d+$/.test(value) ? Number(value) : value;
  }
  if (message.headers['content-type'] !== undefined) out['datacontenttype'] = message.headers['content-type'];
  try {
    out['data'] = JSON.parse(message.body);
  } catch {
    out['data'] = undefined;
    out['__bodyError'] = 'body is not valid JSON';
  }
  return out;
}

/** Header values as strings, whatever the client library hands us (Buffer, number, string). */
export function stringHeaders(input: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}
