import { context, propagation, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { MalformedEventError, parseEvent, type RosterEvent } from '@roster/contracts';
import { runInWork } from '../context.js';
import { decode, type HeaderStyle } from './codec.js';
import type { BusObserver, DeliveryContext, EventHandler, RawMessage } from './types.js';

export type DeliveryOutcome =
  | { kind: 'handled' }
  | { kind: 'retry'; reason: string }
  | { kind: 'dead'; reason: string };

const tracer = trace.getTracer('@roster/platform/bus');

/** Reads `{id, type}` out of a message for dead-letter records, whatever state it is in. */
export function identify(message: RawMessage, style: HeaderStyle): { id: string | null; type: string | null } {
  const decoded = decode(message, style);
  return {
    id: typeof decoded['id'] === 'string' ? decoded['id'] : null,
    type: typeof decoded['type'] === 'string' ? decoded['type'] : null,
  };
}

export function errorReason(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
  return String(error).slice(0, 2000);
}

/**
 * The consume pipeline shared by every adapter: decode, validate against the catalogue, run the
 * handler in a consumer span (child of the producer's trace context and linked to it) and in
 * the event's work context, then classify the result. Malformed messages are never retried.
 */
export async function deliver(
  message: RawMessage,
  style: HeaderStyle,
  handler: EventHandler,
  ctx: DeliveryContext,
  maxAttempts: number,
  observer?: BusObserver,
): Promise<DeliveryOutcome> {
  const started = Date.now();
  let event: RosterEvent;
  try {
    const decoded = decode(message, style);
    if (decoded['__bodyError']) throw new MalformedEventError(String(decoded['__bodyError']));
    event = parseEvent(decoded);
  } catch (error) {
    const reason = error instanceof MalformedEventError ? `malformed: ${error.message}` : errorReason(error);
    observer?.consumed?.(ctx.group, 'unknown', 'dead_lettered', 0);
    return { kind: 'dead', reason };
  }

  const lagMs = Math.max(0, started - Date.parse(event.time));
  const carrier = { traceparent: event.traceparent, tracestate: event.tracestate };
  const producerContext = propagation.extract(context.active(), carrier);
  const producerSpan = trace.getSpanContext(producerContext);
  const links: Link[] = producerSpan ? [{ context: producerSpan }] : [];

  return tracer.startActiveSpan(
    `process ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': ctx.transport,
        'messaging.operation.type': 'process',
        'messaging.destination.name': event.type,
        'messaging.consumer.group.name': ctx.group,
        'messaging.message.id': event.id,
        'roster.correlation_id': event.correlationid,
        'roster.tenant_id': event.tenantid,
        'roster.delivery.attempt': ctx.attempt,
      },
    },
    producerContext,
    async (span) => {
      try {
        await runInWork(
          { correlationId: event.correlationid, causationId: event.id, tenantId: event.tenantid },
          () => handler(event, ctx),
        );
        observer?.consumed?.(ctx.group, event.type, 'handled', lagMs);
        return { kind: 'handled' } as const;
      } catch (error) {
        const reason = errorReason(error);
        span.recordException(error instanceof Error ? error : new Error(reason));
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        const dead = ctx.attempt >= maxAttempts;
        observer?.consumed?.(ctx.group, event.type, dead ? 'dead_lettered' : 'retried', lagMs);
        return dead
          ? ({ kind: 'dead', reason: `handler failed ${ctx.attempt} times: ${reason}` } as const)
          : ({ kind: 'retry', reason } as const);
      } finally {
        span.end();
      }
    },
  );
}
