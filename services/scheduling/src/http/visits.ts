import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { SchedulingContext } from '../context.js';
import { checkVisitWindow, ianaZone, instant } from './schemas.js';
import { addSurcharge, assignVisit, completeVisit, createVisit } from '../visits/commands.js';
import { findVisibleVisit, listVisits, surchargeDto, surchargesOf, visitDto } from '../visits/queries.js';
import { visitScopeOf } from '../visits/scope.js';

const uuid = z.uuid();

const newVisitBody = z.strictObject({
  clientId: uuid,
  sitterId: uuid.nullable().optional(),
  startsAt: instant,
  endsAt: instant,
  service: z.string().trim().min(1).max(100).optional(),
  timeZone: ianaZone.optional(),
}).superRefine(checkVisitWindow);

const listQuery = z.strictObject({
  sitterId: uuid.optional(),
  clientId: uuid.optional(),
  from: instant.optional(),
  to: instant.optional(),
  status: z.enum(['scheduled', 'completed']).optional(),
  unassigned: z.enum(['true', 'false']).transform((s) => s === 'true').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
}).refine((q) => !q.from || !q.to || q.to > q.from, { path: ['to'], message: 'to must be after from' });

const assignBody = z.strictObject({ sitterId: uuid.nullable() });
/** `early`: a manager records a visit done before it starts (otherwise a 409 until it has begun). */
const completeBody = z.strictObject({ early: z.boolean().optional() });
const surchargeBody = z.strictObject({
  amount: z.number().positive().max(100_000).refine((n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-6, 'at most two decimals'),
  reason: z.string().trim().min(1).max(200),
});

/** Visits (S1, S2): create, list, assign, complete, surcharges. Every query is tenant-scoped and scope-filtered. */
export function visitsRouter(ctx: SchedulingContext): Router {
  const router = Router();
  const auth = ctx.auth.required;

  router.post('/visits', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const body = parse(newVisitBody, req.body);
    const visit = await createVisit(ctx.prisma, me, body);
    res.status(201).location(`/visits/${visit.id}`).json(visit);
  });

  router.get('/visits', auth, async (req, res) => {
    const me = principalOf(req);
    const scope = await visitScopeOf(ctx.prisma, me);
    const q = parse(listQuery, req.query, 'query');
    res.json(await listVisits(ctx.prisma, scope, q));
  });

  router.get('/visits/:id', auth, async (req, res) => {
    const me = principalOf(req);
    const id = parse(uuid, req.params.id, 'params');
    const visit = await findVisibleVisit(ctx.prisma, await visitScopeOf(ctx.prisma, me), id);
    if (!visit) throw notFound(`visit ${id}`);
    res.json(visitDto(visit, (await surchargesOf(ctx.prisma, me.tenantId, [id])).get(id)));
  });

  router.patch('/visits/:id', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const id = parse(uuid, req.params.id, 'params');
    const body = parse(assignBody, req.body);
    res.json(await assignVisit(ctx.prisma, me, id, body.sitterId));
  });

  router.post('/visits/:id/complete', auth, async (req, res) => {
    const me = principalOf(req);
    const id = parse(uuid, req.params.id, 'params');
    const body = parse(completeBody, req.body ?? {});
    res.json(await completeVisit(ctx.prisma, me, id, body.early ?? false));
  });

  router.post('/visits/:id/surcharges', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const id = parse(uuid, req.params.id, 'params');
    const body = parse(surchargeBody, req.body);
    const surcharge = await addSurcharge(ctx.prisma, me, id, Math.round(body.amount * 100), body.reason);
    res.status(201).json(surchargeDto(surcharge));
  });

  return router;
}
