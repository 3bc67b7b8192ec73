import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { SchedulingContext } from '../context.js';
import { checkVisitWindow, ianaZone, instant } from './schemas.js';
import { approveRequest, closeRequest, submitRequest } from '../requests/commands.js';
import { findVisibleRequest, listRequests, requestDto } from '../requests/queries.js';
import { REQUEST_STATUSES } from '../requests/request.js';
import { visitScopeOf } from '../visits/scope.js';

const uuid = z.uuid();

const window = z.strictObject({
  startsAt: instant,
  endsAt: instant,
  service: z.string().trim().min(1).max(100).optional(),
}).superRefine(checkVisitWindow);

/** DESIGN's shape: `{kind: visits|change|cancel, visits?, visitId?, note?}`, plus `clientId` for a manager and the zone of the visits. */
const newRequest = z.strictObject({
  kind: z.enum(['visits', 'change', 'cancel']),
  clientId: uuid.optional(),
  visits: z.array(window).min(1).max(20).optional(),
  visitId: uuid.optional(),
  note: z.string().trim().min(1).max(1000).optional(),
  timeZone: ianaZone.optional(),
}).superRefine((r, c) => {
  const visits = r.visits?.length ?? 0;
  if (r.kind === 'visits' && visits === 0) c.addIssue({ code: 'custom', path: ['visits'], message: 'a request for visits names at least one' });
  if (r.kind === 'visits' && r.visitId) c.addIssue({ code: 'custom', path: ['visitId'], message: 'a request for new visits names no existing visit' });
  if (r.kind !== 'visits' && !r.visitId) c.addIssue({ code: 'custom', path: ['visitId'], message: `a ${r.kind} request names the visit (visitId)` });
  if (r.kind === 'change' && visits !== 1) c.addIssue({ code: 'custom', path: ['visits'], message: 'a change names exactly one new window (visits: [{startsAt, endsAt}])' });
  if (r.kind === 'cancel' && visits > 0) c.addIssue({ code: 'custom', path: ['visits'], message: 'a cancellation names no window' });
});

const listQuery = z.strictObject({
  status: z.enum(REQUEST_STATUSES as [string, ...string[]]).optional(),
  clientId: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
const declineBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

/** Client requests (S3): ask, list, approve, decline, withdraw. Tenant-scoped and scope-filtered like visits (rule 8). */
export function requestsRouter(ctx: SchedulingContext): Router {
  const router = Router();
  const auth = ctx.auth.required;

  router.post('/requests', auth, async (req, res) => {
    const request = await submitRequest(ctx.prisma, principalOf(req), parse(newRequest, req.body));
    res.status(201).location(`/requests/${request.id}`).json(request);
  });

  router.get('/requests', auth, async (req, res) => {
    const me = principalOf(req);
    const q = parse(listQuery, req.query, 'query');
    res.json(await listRequests(ctx.prisma, await visitScopeOf(ctx.prisma, me), { ...q, status: q.status as never }));
  });

  router.get('/requests/:id', auth, async (req, res) => {
    const me = principalOf(req);
    const id = parse(uuid, req.params.id, 'params');
    const request = await findVisibleRequest(ctx.prisma, await visitScopeOf(ctx.prisma, me), id);
    if (!request) throw notFound(`request ${id}`);
    res.json(requestDto(request));
  });

  router.post('/requests/:id/approve', auth, async (req, res) => {
    const id = parse(uuid, req.params.id, 'params');
    parse(z.strictObject({}), req.body ?? {});
    res.json(await approveRequest(ctx.prisma, principalOf(req), id));
  });

  router.post('/requests/:id/decline', auth, async (req, res) => {
    const id = parse(uuid, req.params.id, 'params');
    const { reason } = parse(declineBody, req.body);
    res.json(await closeRequest(ctx.prisma, principalOf(req), id, { type: 'decline', reason }));
  });

  router.delete('/requests/:id', auth, async (req, res) => {
    const id = parse(uuid, req.params.id, 'params');
    res.json(await closeRequest(ctx.prisma, principalOf(req), id, { type: 'withdraw' }));
  });

  return router;
}
