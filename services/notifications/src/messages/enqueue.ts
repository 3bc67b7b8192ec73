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
  if (!m.to) return 'no_address';
  const to = normalizeAddress(m.channel, m.to);
  const key = m.idempotencyKey ?? `${m.cause.id}:${m.template}:${m.recipientPersonId ?? (to ?? m.to).toLowerCase()}`;
  const id = randomUUID();
  const reason = to ? null : m.channel === 'email' ? 'invalid e-mail address' : 'invalid phone number (an international number such as +44 20 7946 0958)';
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO message (id, tenant_id, idempotency_key, cause_event_id, cause_type, correlation_id, template, channel,
                          recipient_person_id, to_address, variables, sealed_secret, status, last_error, cause_traceparent, cause_tracestate)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9::uuid, $10, $11::jsonb, $12::jsonb, $13, $14, $15, $16)
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
    id, m.tenantId, key, m.cause.id, m.cause.type, m.cause.correlationid ?? null, m.template, m.channel,
    m.recipientPersonId, to ?? m.to.slice(0, 320), JSON.stringify(m.variables),
    to && m.sealedSecret ? JSON.stringify(m.sealedSecret) : null, to ? 'queued' : 'failed', reason,
    m.cause.traceparent ?? null, m.cause.tracestate ?? null,
  );
  if (inserted !== 1) return 'duplicate';
  if (to) return 'queued';
  await stageEvents(tx, [eventFor('notifications', {
    type: 'notification.failed', subject: id, tenantId: m.tenantId, ...(m.cause.correlationid ? { correlationId: m.cause.correlationid } : {}),
    data: { messageId: id, template: m.template, channel: m.channel, recipientPersonId: m.recipientPersonId, reason: reason!, attempts: 1 },
  })]);
  return 'invalid_address';
}

/** Tallies outcomes into a cascade step's counts. */
export function tally(outcomes: QueueOutcome[]): Record<string, number> {
  return {
    messages: outcomes.filter((o) => o === 'queued').length,
    ...(outcomes.some((o) => o === 'invalid_address') ? { invalidAddresses: outcomes.filter((o) => o === 'invalid_address').length } : {}),
    ...(outcomes.some((o) => o === 'duplicate') ? { alreadyQueued: outcomes.filter((o) => o === 'duplicate').length } : {}),
  };
}
