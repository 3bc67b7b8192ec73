import { randomUUID } from 'node:crypto';
import type { EventEnvelope, SealedSecret } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { Channel } from '../templates/defaults.js';
import { normalizeAddress } from './addresses.js';

export interface MessageRequest {
  tenantId: string;
  /** The event that causes the message: with template and recipient, the idempotency key. */
  cause: Pick<EventEnvelope, 'id' | 'type'> & Partial<Pick<EventEnvelope, 'correlationid' | 'traceparent' | 'tracestate'>>;
  template: string;
  channel: Channel;
  recipientPersonId: string | null;
  /** The address as given (validated here: an invalid one is logged as a failed message, never sent). */
  to: string | null;
  /** Non-secret template variables. */
  variables: Record<string, unknown>;
  /** A secret still sealed to notifications (rule 5): opened only by the sender, dropped once sent. */
  sealedSecret?: SealedSecret | null;
  /** Overrides the default key `(cause, template, recipient)`: a schedule e-mail is once per sitter per day. */
  idempotencyKey?: string;
}

export type QueueOutcome = 'queued' | 'duplicate' | 'invalid_address' | 'no_address';

/**
 * Queues one message in the reaction's transaction (N1). The unique (tenant, idempotency key)
 * makes it once per cause whatever the redeliveries: a second request for the same cause,
 * template and recipient changes nothing. An invalid address is recorded as a failed message with
 * its reason (and `notification.failed`), so that nothing disappears silently.
 */
export async function enqueueMessage(tx: SqlTx, m: MessageRequest): Promise<QueueOutcome> {
  return (await enqueueMessages(tx, [m]))[0]!;
}

/** `enqueueMessage` for many requests (a batch's credentials e-mails): one statement, one outcome per request, in order. */
export async function enqueueMessages(tx: SqlTx, requests: readonly MessageRequest[]): Promise<QueueOutcome[]> {
  const rows = requests.flatMap((m, n) => {
    if (!m.to) return [];
    const to = normalizeAddress(m.channel, m.to);
    const reason = to ? null : m.channel === 'email' ? 'invalid e-mail address' : 'invalid phone number (an international number such as +44 20 7946 0958)';
    const key = m.idempotencyKey ?? `${m.cause.id}:${m.template}:${m.recipientPersonId ?? (to ?? m.to).toLowerCase()}`;
    return [{ n, m, id: randomUUID(), key, to, reason, address: to ?? m.to.slice(0, 320) }];
  });
  const outcomes: QueueOutcome[] = requests.map(() => 'no_address');
  if (rows.length === 0) return outcomes;
  const col = <T>(f: (r: (typeof rows)[number]) => T) => rows.map(f);
  const inserted = new Set((await tx.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO message (id, tenant_id, idempotency_key, cause_event_id, cause_type, correlation_id, template, channel,
                          recipient_person_id, to_address, variables, sealed_secret, status, last_error, cause_traceparent, cause_tracestate)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                          $9::uuid[], $10::text[], $11::jsonb[], $12::jsonb[], $13::text[], $14::text[], $15::text[], $16::text[])
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id::text`,
    col((r) => r.id), col((r) => r.m.tenantId), col((r) => r.key), col((r) => r.m.cause.id), col((r) => r.m.cause.type),
    col((r) => r.m.cause.correlationid ?? null), col((r) => r.m.template), col((r) => r.m.channel), col((r) => r.m.recipientPersonId),
    col((r) => r.address), col((r) => JSON.stringify(r.m.variables)), col((r) => (r.to && r.m.sealedSecret ? JSON.stringify(r.m.sealedSecret) : null)),
    col((r) => (r.to ? 'queued' : 'failed')), col((r) => r.reason), col((r) => r.m.cause.traceparent ?? null), col((r) => r.m.cause.tracestate ?? null),
  )).map((r) => r.id));
  const failed = [];
  for (const r of rows) {
    if (!inserted.has(r.id)) outcomes[r.n] = 'duplicate';
    else if (r.to) outcomes[r.n] = 'queued';
    else {
      outcomes[r.n] = 'invalid_address';
      // Caused by the request's own event (its trace too), whichever event's context a batch runs in.
      failed.push({
        ...eventFor('notifications', {
          type: 'notification.failed', subject: r.id, tenantId: r.m.tenantId, ...(r.m.cause.correlationid ? { correlationId: r.m.cause.correlationid } : {}),
          data: { messageId: r.id, template: r.m.template, channel: r.m.channel, recipientPersonId: r.m.recipientPersonId, reason: r.reason!, attempts: 1 },
        }),
        causationid: r.m.cause.id,
        ...(r.m.cause.traceparent ? { traceparent: r.m.cause.traceparent, ...(r.m.cause.tracestate ? { tracestate: r.m.cause.tracestate } : {}) } : {}),
      });
    }
  }
  await stageEvents(tx, failed);
  if (outcomes.includes('queued')) queuedIn.add(tx);
  return outcomes;
}

// The transactions that queued a message: after their commit the sender is woken, after others not
// (each wake is a claim statement; a burst of grants that queue nothing had cost one per batch).
const queuedIn = new WeakSet<object>();
export const queuedMessagesIn = (tx: object): boolean => queuedIn.has(tx);

/** Tallies outcomes into a cascade step's counts. */
export function tally(outcomes: QueueOutcome[]): Record<string, number> {
  return {
    messages: outcomes.filter((o) => o === 'queued').length,
    ...(outcomes.some((o) => o === 'invalid_address') ? { invalidAddresses: outcomes.filter((o) => o === 'invalid_address').length } : {}),
    ...(outcomes.some((o) => o === 'duplicate') ? { alreadyQueued: outcomes.filter((o) => o === 'duplicate').length } : {}),
  };
}
