import { randomUUID } from 'node:crypto';
import { catalogue, isEventType, type EventData, type EventOf, type EventType, type RosterEvent } from './catalogue.js';
import { envelopeAttributesSchema, SPEC_VERSION, sourceOf, type ServiceName } from './envelope.js';

export interface NewEvent<T extends EventType> {
  type: T;
  subject: string;
  tenantId: string;
  correlationId: string;
  causationId?: string | undefined;
  subjectVersion?: number | undefined;
  data: EventData<T>;
  /** Defaults to a new random id; pass one to make the write idempotent. */
  id?: string | undefined;
  time?: Date | undefined;
}

/** Builds a validated envelope for `type`; throws if the payload does not match the catalogue. */
export function createEvent<T extends EventType>(source: ServiceName, e: NewEvent<T>): EventOf<T> {
  const def = catalogue[e.type];
  const data = def.payload.parse(e.data);
  const envelope = {
    specversion: SPEC_VERSION,
    id: e.id ?? randomUUID(),
    source: sourceOf(source),
    type: e.type,
    subject: e.subject,
    time: (e.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json' as const,
    dataversion: def.version,
    tenantid: e.tenantId,
    correlationid: e.correlationId,
    ...(e.causationId !== undefined ? { causationid: e.causationId } : {}),
    ...(e.subjectVersion !== undefined ? { subjectversion: e.subjectVersion } : {}),
    data,
  };
  return envelope as unknown as EventOf<T>;
}

/** Why an incoming message is not a valid Roster event: the reason goes with it to the dead-letter destination. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

/**
 * Validates an incoming envelope against the catalogue. Newer payload versions are accepted
 * (compatible evolution: unknown fields are stripped); anything that does not parse is malformed.
 */
export function parseEvent(raw: unknown): RosterEvent {
  if (typeof raw !== 'object' || raw === null) throw new MalformedEventError('event is not an object');
  const attributes = envelopeAttributesSchema.safeParse(raw);
  if (!attributes.success) {
    throw new MalformedEventError(`invalid envelope: ${summarize(attributes.error.issues)}`);
  }
  const type = attributes.data.type;
  if (!isEventType(type)) throw new MalformedEventError(`unknown event type "${type}"`);
  const data = catalogue[type].payload.safeParse((raw as { data?: unknown }).data);
  if (!data.success) {
    throw new MalformedEventError(`invalid ${type} payload: ${summarize(data.error.issues)}`);
  }
  return { ...attributes.data, data: data.data } as RosterEvent;
}

function summarize(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
