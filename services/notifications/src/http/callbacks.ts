import { createHmac, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@roster/platform/http/app';
import { notFound, unauthorized } from '@roster/platform/http/problem';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { NotificationsContext } from '../context.js';

export const SIGNATURE_HEADER = 'x-roster-signature';

/**
 * The signature a provider sends: `sha256=<hex HMAC-SHA256 of the body>` keyed with
 * SMS_CALLBACK_SECRET, over the body's bytes exactly as sent (the HTTP kit keeps them as `rawBody`).
 */
export const signCallback = (secret: string, body: unknown): string =>
  `sha256=${createHmac('sha256', secret).update(typeof body === 'string' ? body : JSON.stringify(body)).digest('hex')}`;

// Either our field names or the common providers' (MessageSid, MessageStatus, ErrorCode).
const callback = z.object({
  messageId: z.string().min(1).max(128).optional(),
  MessageSid: z.string().min(1).max(128).optional(),
  status: z.string().min(1).max(32).optional(),
  MessageStatus: z.string().min(1).max(32).optional(),
  error: z.string().max(500).optional(),
  ErrorCode: z.union([z.string().max(32), z.number()]).optional(),
}).refine((c) => (c.messageId ?? c.MessageSid) && (c.status ?? c.MessageStatus), 'messageId and status are required');

const FAILED = new Set(['failed', 'undelivered']);

/** B6: provider status callbacks update the delivery log; a failed delivery becomes `notification.failed`. */
export function callbacksRouter(ctx: NotificationsContext): Router {
  const router = Router();
  const db = ctx.prisma;

  router.post('/callbacks/sms/:provider', async (req, res) => {
    const secret = ctx.config.smsCallbackSecret;
    if (!secret) throw unauthorized('status callbacks are not accepted: SMS_CALLBACK_SECRET is not configured');
    const given = req.get(SIGNATURE_HEADER);
    if (!given) throw unauthorized(`missing ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body>`);
    const raw = (req as typeof req & { rawBody?: Buffer }).rawBody;
    const expected = Buffer.from(signCallback(secret, raw ? raw.toString('utf8') : JSON.stringify(req.body ?? {})));
    const actual = Buffer.from(given.trim());
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw unauthorized('the callback signature does not match its body');

    const provider = parse(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), req.params.provider, 'params');
    const c = parse(callback, req.body);
    const providerMessageId = (c.messageId ?? c.MessageSid)!;
    const status = (c.status ?? c.MessageStatus)!.toLowerCase();
    const error = c.error ?? (c.ErrorCode !== undefined ? `provider error ${c.ErrorCode}` : null);

    const outcome = await db.$transaction(async (tx) => {
      // A provider's callback names its own message id; the row found carries the tenant, and every write below is scoped to it.
      const [row] = await tx.$queryRawUnsafe<{ id: string; tenant_id: string; template: string; channel: 'email' | 'sms'; recipient_person_id: string | null; attempts: number; status: string; correlation_id: string | null; delivery_status: string | null }[]>(
        `SELECT id, tenant_id, template, channel, recipient_person_id, attempts, status, correlation_id, delivery_status FROM message
          WHERE provider = $1 AND provider_message_id = $2 FOR UPDATE`,
        `sms:${provider}`, providerMessageId,
      );
      if (!row) return null;
      if (row.delivery_status === status) return { id: row.id, changed: false };
      const failed = FAILED.has(status) && row.status !== 'failed';
      await tx.$executeRawUnsafe(
        `UPDATE message SET delivery_status = $3, status = CASE WHEN $4 THEN 'failed' ELSE status END,
                last_error = COALESCE($5, last_error), updated_at = now()
          WHERE id = $1::uuid AND tenant_id = $2::uuid`,
        row.id, row.tenant_id, status, failed, error,
      );
      await tx.$executeRawUnsafe(
        'INSERT INTO message_attempt (message_id, tenant_id, attempt, provider, outcome, error) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6)',
        row.id, row.tenant_id, row.attempts, `sms:${provider}`, `callback_${status}`.slice(0, 64), error,
      );
      if (failed) {
        await stageEvents(tx, [eventFor('notifications', {
          type: 'notification.failed', subject: row.id, tenantId: row.tenant_id, ...(row.correlation_id ? { correlationId: row.correlation_id } : {}),
          data: { messageId: row.id, template: row.template, channel: row.channel, recipientPersonId: row.recipient_person_id, reason: error ?? `provider reported ${status}`, attempts: Math.max(1, row.attempts) },
        })]);
      }
      return { id: row.id, changed: true };
    });
    if (!outcome) throw notFound(`message ${providerMessageId} of provider ${provider}`);
    ctx.relay.nudge();
    res.json({ messageId: outcome.id, deliveryStatus: status });
  });
  return router;
}
