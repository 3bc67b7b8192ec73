import { openTimeCursor, sealTimeCursor } from '@roster/platform/paging';
import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import { normalizeAddress } from '../messages/addresses.js';
import type { NotificationsContext } from '../context.js';

const query = z.strictObject({
  to: z.string().max(320).optional(),
  template: z.string().regex(/^[a-z_]{1,64}$/).optional(),
  status: z.enum(['queued', 'sending', 'sent', 'failed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

interface Row {
  id: string; template: string; channel: string; to_address: string; recipient_person_id: string | null; status: string;
  delivery_status: string | null; attempts: number; provider: string | null; last_error: string | null; cause_type: string | null;
  cause_event_id: string | null; correlation_id: string | null; created_at: Date; sent_at: Date | null;
}
interface AttemptRow { message_id: string; attempt: number; provider: string; outcome: string; error: string | null; at: Date }


// What the delivery log shows: never the variables, the rendered body or a secret (rule 5).
const dto = (r: Row, attempts: AttemptRow[]) => ({
  id: r.id, template: r.template, channel: r.channel, to: r.to_address, recipientPersonId: r.recipient_person_id,
  status: r.status, deliveryStatus: r.delivery_status, attempts: r.attempts, provider: r.provider, lastError: r.last_error,
  cause: r.cause_type ? { type: r.cause_type, eventId: r.cause_event_id, operationId: r.correlation_id } : null,
  createdAt: r.created_at.toISOString(), sentAt: r.sent_at?.toISOString() ?? null,
  providerAttempts: attempts.map((a) => ({ attempt: a.attempt, provider: a.provider, outcome: a.outcome, error: a.error, at: a.at.toISOString() })),
});

const COLUMNS = `id, template, channel, to_address, recipient_person_id, status, delivery_status, attempts, provider, last_error,
                 cause_type, cause_event_id, correlation_id, created_at, sent_at`;

/** N1: the delivery log, newest first, with each provider attempt. */
export function messagesRouter(ctx: NotificationsContext): Router {
  const router = Router();
  const db = ctx.prisma;
  const attemptsOf = async (tenantId: string, ids: string[]) => ids.length === 0 ? [] : db.$queryRawUnsafe<AttemptRow[]>(
    'SELECT message_id, attempt, provider, outcome, error, at FROM message_attempt WHERE tenant_id = $1::uuid AND message_id = ANY($2::uuid[]) ORDER BY id',
    tenantId, ids,
  );

  router.get('/messages', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'messages.read');
    const q = parse(query, req.query, 'query');
    const binding = { tenantId: me.tenantId, query: `messages:${JSON.stringify([q.to, q.template, q.status])}` };
    const after = openTimeCursor(q.cursor, binding);
    // A phone number matches however it is written (`+44 20 …`, or `44 20 …` when a `+` was not URL-encoded).
    const phone = q.to ? normalizeAddress('sms', q.to.trim().replace(/^(\d)/, '+$1')) : null;
    const rows = await db.$queryRawUnsafe<Row[]>(
      `SELECT ${COLUMNS} FROM message
        WHERE tenant_id = $1::uuid AND ($2::text IS NULL OR lower(to_address) = lower($2) OR to_address = $8) AND ($3::text IS NULL OR template = $3)
          AND ($4::text IS NULL OR status = $4) AND ($5::timestamptz IS NULL OR (created_at, id) < ($5::timestamptz, $6::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $7`,
      me.tenantId, q.to ?? null, q.template ?? null, q.status ?? null, after?.at ?? null, after?.id ?? null, q.limit + 1, phone,
    );
    const page = rows.slice(0, q.limit);
    const attempts = await attemptsOf(me.tenantId, page.map((r) => r.id));
    res.json({
      items: page.map((r) => dto(r, attempts.filter((a) => a.message_id === r.id))),
      nextCursor: rows.length > q.limit ? sealTimeCursor(page[page.length - 1]!.created_at, page[page.length - 1]!.id, binding) : null,
    });
  });

  router.get('/messages/:id', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'messages.read');
    const id = parse(z.uuid(), req.params.id, 'params');
    const [row] = await db.$queryRawUnsafe<Row[]>(`SELECT ${COLUMNS} FROM message WHERE tenant_id = $1::uuid AND id = $2::uuid`, me.tenantId, id);
    if (!row) throw notFound(`message ${id}`);
    res.json(dto(row, await attemptsOf(me.tenantId, [id])));
  });
  return router;
}
