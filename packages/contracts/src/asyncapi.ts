import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { catalogue, EVENT_TYPES, topicOf, type EventDefinition, type EventType } from './catalogue.js';
import { CORE_ATTRIBUTES, envelopeAttributesSchema, EXTENSION_ATTRIBUTES, SERVICES, type ServiceName } from './envelope.js';

/**
 * The AsyncAPI 3.0.0 document of the event catalogue (docs/design.md, rule 4), for teams whose services
 * subscribe. Built from the catalogue, the envelope and the zod payload schemas only: no clock, no
 * environment, so that the same contracts always give the same document (the committed
 * `asyncapi.yaml` is checked against it by `npm run asyncapi -- --check` and by the tests).
 */

/** Broker objects, as the RabbitMQ and Kafka adapters name them in production (namespace `roster`). */
export const BROKER = {
  exchange: 'roster.events',
  queueOf: (service: ServiceName | string): string => `roster.${service}`,
  deadLetterQueueOf: (service: ServiceName | string): string => `roster.${service}.dead`,
  consumerGroupOf: (service: ServiceName | string): string => `roster.${service}`,
  topicOf,
  deadLetterTopic: 'roster.dead-letter',
} as const;

/**
 * The compatible-evolution rule, copied from the comment on `EventDefinition` in `catalogue.ts`
 * (`asyncapi.unit.spec.ts` fails when the two drift apart).
 */
export const COMPATIBLE_EVOLUTION_RULE = [
  '- a payload version may only ADD optional fields (`.optional()`, possibly also `.nullable()`); it never removes, renames or changes the type of a field, and never tightens a constraint;',
  '- loosening a constraint (a longer max, a new enum value) is compatible for producers only: consumers on an older catalogue dead-letter such events, so deploy consumers first;',
  '- consumers ignore fields they do not know (zod objects strip unknown keys);',
  '- anything else is a new event type (`user.deactivated.v2` is NOT how we do it: pick a new name) published next to the old one until every subscriber has moved.',
  '`version` is the current payload version; it travels as the `dataversion` attribute.',
].join('\n');

/** One line per envelope attribute, shown on the `EnvelopeAttributes` schema. */
export const ATTRIBUTE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  specversion: 'CloudEvents specification version: always `1.0`.',
  id: 'Unique per event. Delivery is at least once: consumers deduplicate by this id (inbox).',
  source: 'URI reference of the producing service: `/roster/<service>`.',
  type: 'Event type from the catalogue (the channel address), e.g. `user.deactivated`.',
  subject: 'What the event is about (a person id, an invitation id ...). The Kafka record key.',
  time: 'When the fact happened (RFC 3339 with an offset).',
  datacontenttype: 'Always `application/json`; travels as the `content-type` header or property.',
  dataversion: 'Version of the payload schema of this type (`x-roster-version`). Consumers accept newer versions: they only add fields.',
  tenantid: 'Tenant the event belongs to; every consumer scopes its effects to it.',
  correlationid: 'The cascade (operation) id: the same in every event a command causes, transitively.',
  causationid: 'Id of the event (or request) that directly caused this one.',
  subjectversion: 'Monotonic version of the subject when the event was written: a consumer never lets an older one overwrite a newer one.',
  traceparent: 'W3C trace context of the operation that wrote the event (CloudEvents distributed tracing extension).',
  tracestate: 'W3C trace state that goes with `traceparent`.',
};

const SCHEMA_FORMAT_TARGET = 'draft-07';

/**
 * JSON Schema (draft-07, the base of AsyncAPI's schema format) of a zod schema, without `$schema`.
 * Input side: a payload may carry fields added by a newer version, so objects do not say
 * `additionalProperties: false` (zod's output side would).
 */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return stripSchemaKeys(z.toJSONSchema(schema, { target: SCHEMA_FORMAT_TARGET, io: 'input' })) as Record<string, unknown>;
}

function stripSchemaKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSchemaKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (key !== '$schema') out[key] = stripSchemaKeys(v);
  return out;
}

/** `user.deactivated` → `UserDeactivatedPayload`; `cascade.preview_requested` → `CascadePreviewRequestedPayload`. */
export const payloadSchemaName = (type: string): string =>
  `${type
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}Payload`;

/** `cascade.step.completed` → `Cascade step completed`. */
const titleOf = (type: string): string => {
  const words = type.split(/[._]/).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.map((s) => `\`${s}\``).join(', '));

export const operationIdOf = (service: string, action: 'send' | 'receive', type: string): string =>
  `${service}.${action}.${type}`;

const ref = (pointer: string) => ({ $ref: pointer });

function readPackageVersion(): string {
  // One level above both `src/` (sources) and `dist/` (build): the package's own package.json.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function infoDescription(): string {
  const attributes = [...CORE_ATTRIBUTES, ...EXTENSION_ATTRIBUTES].map(
    (a) => `- \`${a}\`${EXTENSION_ATTRIBUTES.includes(a as (typeof EXTENSION_ATTRIBUTES)[number]) ? ' (Roster extension)' : ''}: ${ATTRIBUTE_DESCRIPTIONS[a] ?? ''}`,
  );
  const steps = EVENT_TYPES.filter((t) => catalogue[t].stepsExpectedFrom.length > 0).map(
    (t) => `- \`${t}\`: ${list(catalogue[t].stepsExpectedFrom)}`,
  );
  return [
    'Every event Roster publishes. Generated from `packages/contracts` by `npm run asyncapi`: do not edit by hand.',
    '',
    '## Envelope',
    '',
    'Every event is a CloudEvents 1.0 event in binary content mode: the context attributes travel as',
    'message headers (the `EnvelopeAttributes` schema), and `data`, the payload described by each message, is the JSON body.',
    '',
    ...attributes,
    '',
    'Header names follow the CloudEvents protocol bindings:',
    '',
    '- RabbitMQ (AMQP 0-9-1): each attribute is the header `cloudEvents:<attribute>` (the names of the CloudEvents AMQP',
    '  binding\'s application properties), `datacontenttype` is the `content-type` message property, the routing key is the type.',
    '- Kafka: each attribute is the header `ce_<attribute>`, `datacontenttype` is the `content-type` header, the record key is the subject.',
    '- Integer attributes (`dataversion`, `subjectversion`) are written as decimal strings.',
    '',
    'Delivery is at least once: consumers deduplicate by `id` and order by `subjectversion` per subject.',
    'A message that is not a valid Roster event, or whose handler keeps failing, goes to the dead letters with the reason.',
    '',
    '## Compatible evolution',
    '',
    'Each payload schema is versioned (`x-roster-version` on each message, `dataversion` on each event):',
    '',
    COMPATIBLE_EVOLUTION_RULE,
    '',
    '## Cascade steps',
    '',
    'When one of these events starts or continues a cascade, the operation status (`GET /operations/{id}` on directory)',
    'waits for a `cascade.step.completed` from each of these services (`x-roster-steps-expected-from` on each message):',
    '',
    ...steps,
  ].join('\n');
}

function channelOf(def: EventDefinition) {
  return {
    address: def.type,
    title: titleOf(def.type),
    summary: def.summary,
    description: [
      `RabbitMQ: routing key \`${def.type}\` on the topic exchange \`${BROKER.exchange}\`.`,
      `Kafka: topic \`${BROKER.topicOf(def.type)}\`, record key = subject (${def.subject}).`,
    ].join('\n'),
    messages: { [def.type]: ref(`#/components/messages/${def.type}`) },
    bindings: {
      amqp: {
        is: 'routingKey',
        exchange: { name: BROKER.exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
        bindingVersion: '0.3.0',
      },
      kafka: { topic: BROKER.topicOf(def.type), bindingVersion: '0.5.0' },
    },
  };
}

function messageOf(def: EventDefinition) {
  return {
    name: def.type,
    title: `${titleOf(def.type)} (v${def.version})`,
    summary: def.summary,
    description: [
      `Subject: ${def.subject}.`,
      `Produced by ${list(def.producers)}; consumed by ${list(def.consumers)}.`,
      def.stepsExpectedFrom.length > 0
        ? `A cascade started or continued by this event waits for the steps of ${list(def.stepsExpectedFrom)}.`
        : 'No cascade step is expected from its consumers.',
    ].join('\n'),
    contentType: 'application/json',
    // What is on the wire, per binding (exactly one matches); `EnvelopeAttributes` is the logical event.
    headers: { oneOf: [ref('#/components/schemas/AmqpHeaders'), ref('#/components/schemas/KafkaHeaders')] },
    payload: ref(`#/components/schemas/${payloadSchemaName(def.type)}`),
    correlationId: ref('#/components/correlationIds/cascade'),
    tags: [{ name: def.family }],
    bindings: {
      kafka: {
        key: { type: 'string', minLength: 1, maxLength: 128, description: `The subject: ${def.subject}.` },
        bindingVersion: '0.5.0',
      },
    },
    'x-roster-version': def.version,
    'x-roster-producers': [...def.producers],
    'x-roster-consumers': [...def.consumers],
    'x-roster-steps-expected-from': [...def.stepsExpectedFrom],
  };
}

function operationsOf(def: EventDefinition): [string, Record<string, unknown>][] {
  const channel = ref(`#/channels/${def.type}`);
  const messages = [ref(`#/channels/${def.type}/messages/${def.type}`)];
  const topic = BROKER.topicOf(def.type);
  const sends = def.producers.map((service): [string, Record<string, unknown>] => [
    operationIdOf(service, 'send', def.type),
    {
      action: 'send',
      channel,
      title: `${service} sends ${def.type}`,
      summary: `${service} publishes \`${def.type}\` through its transactional outbox.`,
      description: [
        `RabbitMQ: persistent message on \`${BROKER.exchange}\` with routing key \`${def.type}\`, publisher confirms.`,
        `Kafka: record on \`${topic}\` keyed by the subject, acks=all.`,
      ].join('\n'),
      messages,
      bindings: { amqp: { deliveryMode: 2, bindingVersion: '0.3.0' } },
    },
  ]);
  const receives = def.consumers.map((service): [string, Record<string, unknown>] => {
    const stepExpected = def.stepsExpectedFrom.includes(service);
    return [
      operationIdOf(service, 'receive', def.type),
      {
        action: 'receive',
        channel,
        title: `${service} receives ${def.type}`,
        summary: stepExpected
          ? `${service} reacts to \`${def.type}\` and reports its cascade step.`
          : `${service} reacts to \`${def.type}\`.`,
        description: [
          `RabbitMQ: durable queue \`${BROKER.queueOf(service)}\` bound to \`${BROKER.exchange}\` with routing key \`${def.type}\`; dead letters in \`${BROKER.deadLetterQueueOf(service)}\`.`,
          `Kafka: consumer group \`${BROKER.consumerGroupOf(service)}\` on \`${topic}\`; dead letters in \`${BROKER.deadLetterTopic}\`.`,
        ].join('\n'),
        messages,
        bindings: {
          amqp: { ack: true, bindingVersion: '0.3.0' },
          kafka: { groupId: { type: 'string', enum: [BROKER.consumerGroupOf(service)] }, bindingVersion: '0.5.0' },
        },
        'x-roster-step-expected': stepExpected,
      },
    ];
  });
  return [...sends, ...receives];
}

function envelopeSchema(): Record<string, unknown> {
  const schema = jsonSchemaOf(envelopeAttributesSchema);
  const properties = schema['properties'] as Record<string, Record<string, unknown>>;
  const described: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    described[name] = { description: ATTRIBUTE_DESCRIPTIONS[name], ...property };
  }
  return {
    title: 'Envelope attributes',
    description:
      'The logical event: CloudEvents 1.0 context attributes and Roster extensions, as a CloudEvents SDK gives them. On the wire they are headers (`AmqpHeaders`, `KafkaHeaders`): `cloudEvents:<attribute>` on RabbitMQ, `ce_<attribute>` on Kafka; `datacontenttype` as `content-type`; integers as decimal strings.',
    ...schema,
    properties: described,
  };
}

/** How each binding names the attribute headers (issue 16 item 10): what a subscriber finds on the wire. */
export const HEADER_PREFIX = { amqp: 'cloudEvents:', kafka: 'ce_' } as const;
export type Binding = keyof typeof HEADER_PREFIX;

/**
 * The headers a message really carries on one binding: every attribute but `datacontenttype` as
 * `<prefix><attribute>` with a string value (integers as decimal strings); on Kafka also
 * `content-type` (on RabbitMQ it is the `content-type` message property, not a header). Other
 * headers (the brokers' and Roster's bookkeeping, `x-…`) may be present.
 */
function wireHeadersSchema(binding: Binding): Record<string, unknown> {
  const logical = jsonSchemaOf(envelopeAttributesSchema);
  const properties = logical['properties'] as Record<string, Record<string, unknown>>;
  const required = new Set(logical['required'] as string[]);
  const prefix = HEADER_PREFIX[binding];
  const wire: Record<string, unknown> = {};
  const wireRequired: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (name === 'datacontenttype') continue;
    const { type, minimum: _min, exclusiveMinimum: _emin, maximum: _max, ...rest } = property;
    const asString = type === 'integer' || type === 'number'
      ? { type: 'string', pattern: '^[0-9]+$' }
      : { ...rest, type: 'string' };
    wire[prefix + name] = { description: ATTRIBUTE_DESCRIPTIONS[name], ...asString };
    if (required.has(name)) wireRequired.push(prefix + name);
  }
  if (binding === 'kafka') {
    wire['content-type'] = { description: ATTRIBUTE_DESCRIPTIONS['datacontenttype'], type: 'string', const: 'application/json' };
    wireRequired.push('content-type');
  }
  return {
    title: binding === 'amqp' ? 'RabbitMQ (AMQP 0-9-1) headers' : 'Kafka headers',
    description: binding === 'amqp'
      ? 'The headers of a message on RabbitMQ: `cloudEvents:<attribute>`, string values; `datacontenttype` is the `content-type` message property.'
      : 'The headers of a record on Kafka: `ce_<attribute>` and `content-type`, string values; the record key is the subject.',
    type: 'object',
    properties: wire,
    required: wireRequired,
  };
}

export type AsyncApiDocument = Record<string, unknown> & { asyncapi: '3.0.0' };

/** The AsyncAPI 3.0.0 document of the whole catalogue. Deterministic: same contracts, same document. */
export function buildAsyncApiDocument(): AsyncApiDocument {
  const defs: EventDefinition[] = EVENT_TYPES.map((t: EventType) => catalogue[t]);
  const schemas: Record<string, unknown> = {
    EnvelopeAttributes: envelopeSchema(), AmqpHeaders: wireHeadersSchema('amqp'), KafkaHeaders: wireHeadersSchema('kafka'),
  };
  for (const def of defs) {
    schemas[payloadSchemaName(def.type)] = {
      title: `${def.type} payload (v${def.version})`,
      ...jsonSchemaOf(def.payload),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Roster events',
      version: readPackageVersion(),
      description: infoDescription(),
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: {
        host: '127.0.0.1:5672',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        title: 'RabbitMQ (example host)',
        description: [
          `Events are published to the durable topic exchange \`${BROKER.exchange}\` with the event type as the routing key.`,
          `Each consuming service has one durable queue \`roster.<service>\` (${SERVICES.map((s) => `\`${BROKER.queueOf(s)}\``).join(', ')})`,
          'bound with the types it subscribes to; its instances compete for the messages.',
          'Messages that cannot be parsed or whose handler keeps failing are dead-lettered, with the reason, to `roster.<service>.dead`.',
        ].join('\n'),
      },
      kafka: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        title: 'Kafka (example host)',
        description: [
          'One topic per event family, `roster.<family>` (the first segment of the type: `user.deactivated` goes to `roster.user`);',
          'the record key is the subject, so events about one subject keep their order within a family.',
          'Each consuming service is one consumer group `roster.<service>`.',
          `Messages that cannot be parsed or whose handler keeps failing go, with the reason, to \`${BROKER.deadLetterTopic}\`.`,
        ].join('\n'),
      },
    },
    channels: Object.fromEntries(defs.map((def) => [def.type, channelOf(def)])),
    operations: Object.fromEntries(defs.flatMap(operationsOf)),
    components: {
      schemas,
      messages: Object.fromEntries(defs.map((def) => [def.type, messageOf(def)])),
      correlationIds: {
        cascade: {
          description: 'The cascade (operation) id: every event a command causes carries it, transitively. The header `cloudEvents:correlationid` on RabbitMQ (here), `ce_correlationid` on Kafka.',
          location: '$message.header#/cloudEvents:correlationid',
        },
      },
    },
  };
}
