import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { badRequest, notFound } from '@roster/platform/http/problem';
import type { NotificationsContext } from '../context.js';
import { MONITORABLE_EVENTS } from '../monitors/monitors.js';
import { findPerson } from '../people/recipients.js';

const listQuery = z.strictObject({ review: z.enum(['true', 'false']).optional(), personId: z.uuid().optional() });
const newMonitor = z.strictObject({ personId: z.uuid().optional(), eventType: z.enum(MONITORABLE_EVENTS) });
const reassign = z.strictObject({ personId: z.uuid() });

interface Row { id: string; person_id: string; event_type: string; status: string; review_reason: string | null; flagged_at: Date | null; created_at: Date }
const dto = (r: Row) => ({
  id: r.id, personId: r.person_id, eventType: r.event_type, status: r.status, reviewReason: r.review_reason,
  flaggedAt: r.flagged_at?.toISOString() ?? null, createdAt: r.created_at.toISOString(),
});
const COLUMNS = 'id, person_id, event_type, status, review_reason, flagged_at, created_at';

/** N2: event e-mail monitors; `?review=true` lists those flagged when their holder was deactivated. */
export function monitorsRouter(ctx: NotificationsContext): Router {
  const router = Router();
  const db = ctx.prisma;
  const activePerson = async (tenantId: string, personId: string) => {
    const person = await findPerson(db, tenantId, personId);
    if (!person) throw notFound(`person ${personId}`);
    if (person.status !== 'active') throw badRequest(`person ${personId} is not active: a monitor must reach someone`);
    if (!person.email) throw badRequest(`person ${personId} has no e-mail address`);
  };

  router.get('/monitors', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'subscriptions.manage');
    const q = parse(listQuery, req.query, 'query');
    const rows = await db.$queryRawUnsafe<Row[]>(
      `SELECT ${COLUMNS} FROM monitor WHERE tenant_id = $1::uuid AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR person_id = $3::uuid)
        ORDER BY created_at, id`,
      me.tenantId, q.review === undefined ? null : q.review === 'true' ? 'review' : 'active', q.personId ?? null,
    );
    res.json({ items: rows.map(dto), nextCursor: null });
  });

  router.post('/monitors', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'subscriptions.manage');
    const b = parse(newMonitor, req.body);
    const personId = b.personId ?? me.personId;
    await activePerson(me.tenantId, personId);
    const [row] = await db.$queryRawUnsafe<Row[]>(
      `INSERT INTO monitor (id, tenant_id, person_id, event_type) VALUES ($1::uuid, $2::uuid, $3::uuid, $4) RETURNING ${COLUMNS}`,
      randomUUID(), me.tenantId, personId, b.eventType,
    );
    res.status(201).location(`/monitors/${row!.id}`).json(dto(row!));
  });

  /** Review: hand a flagged monitor to an active person; it fires again. */
  router.patch('/monitors/:id', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'subscriptions.manage');
    const id = parse(z.uuid(), req.params.id, 'params');
    const b = parse(reassign, req.body);
    await activePerson(me.tenantId, b.personId);
    const [row] = await db.$queryRawUnsafe<Row[]>(
      `UPDATE monitor SET person_id = $3::uuid, status = 'active', review_reason = NULL, flagged_at = NULL
        WHERE id = $1::uuid AND tenant_id = $2::uuid RETURNING ${COLUMNS}`,
      id, me.tenantId, b.personId,
    );
    if (!row) throw notFound(`monitor ${id}`);
    res.json(dto(row));
  });

  router.delete('/monitors/:id', ctx.auth.required, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'subscriptions.manage');
    const id = parse(z.uuid(), req.params.id, 'params');
    const deleted = await db.$executeRawUnsafe('DELETE FROM monitor WHERE id = $1::uuid AND tenant_id = $2::uuid', id, me.tenantId);
    if (deleted !== 1) throw notFound(`monitor ${id}`);
    res.status(204).end();
  });
  return router;
}
