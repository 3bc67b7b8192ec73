import { z } from 'zod';

/**
 * The one envelope every Roster event travels in: CloudEvents 1.0 context attributes plus
 * Roster's extensions. Extension names follow the CloudEvents naming rule (lower-case
 * letters and digits only) so that the AMQP and Kafka bindings can carry them as headers.
 */
export const SPEC_VERSION = '1.0' as const;

/** The services that produce and consume events. */
export const SERVICES = ['identity', 'directory', 'scheduling', 'notifications'] as const;
export type ServiceName = (typeof SERVICES)[number];

const w3cTraceparent = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const envelopeAttributesSchema = z.object({
  specversion: z.literal(SPEC_VERSION),
  /** Unique per event; consumers' inboxes are keyed by it. */
  id: z.string().min(1).max(128),
  /** URI reference of the producing service, e.g. `/roster/directory`. */
  source: z.string().min(1).max(256),
  /** Event type from the catalogue, e.g. `user.deactivated`. */
  type: z.string().regex(/^[a-z]+(\.[a-z_]+)+$/),
  /** What the event is about (a person id, a visit id ...); the Kafka partition key. */
  subject: z.string().min(1).max(128),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  /** Version of the payload schema of this type (see `catalogue.ts` for the evolution rule). */
  dataversion: z.number().int().positive(),
  /** Tenant the event belongs to; every consumer scopes its effects to it. */
  tenantid: z.string().min(1).max(64),
  /** The cascade (operation) id: the same for every event a command causes, transitively. */
  correlationid: z.string().min(1).max(128),
  /** Id of the event (or request) that directly caused this one. */
  causationid: z.string().min(1).max(128).optional(),
  /** Monotonic version of the subject when this event was written: consumers never let an older one win. */
  subjectversion: z.number().int().nonnegative().optional(),
  /** W3C trace context of the operation that wrote the event (CloudEvents distributed tracing extension). */
  traceparent: z.string().regex(w3cTraceparent).optional(),
  tracestate: z.string().max(512).optional(),
});

export type EnvelopeAttributes = z.infer<typeof envelopeAttributesSchema>;

export interface EventEnvelope<TType extends string = string, TData = unknown> extends EnvelopeAttributes {
  type: TType;
  data: TData;
}

/** Extension attribute names, in the order they are written to headers. */
export const EXTENSION_ATTRIBUTES = [
  'dataversion',
  'tenantid',
  'correlationid',
  'causationid',
  'subjectversion',
  'traceparent',
  'tracestate',
] as const;

/** Core (required) CloudEvents context attributes Roster always sets. */
export const CORE_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype'] as const;

export const sourceOf = (service: ServiceName | string): string => `/roster/${service}`;
