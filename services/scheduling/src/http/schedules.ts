import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import type { SchedulingContext } from '../context.js';
import { changeSchedule, createSchedule, deleteSchedule, listSchedules } from '../schedules/commands.js';

const uuid = z.uuid();
// Shapes only; the rule, zone and times are checked by parseRecurrence (precise 400s naming the field).
const timing = {
  rrule: z.string().trim().min(1).max(500),
  timeZone: z.string().min(1).max(64),
  startTime: z.string().max(5),
  durationMinutes: z.number().int().min(5).max(24 * 60),
};
const newScheduleBody = z.strictObject({
  clientId: uuid,
  sitterId: uuid.nullable().optional(),
  ...timing,
  startDate: z.string().max(10).optional(),
  service: z.string().trim().min(1).max(100).optional(),
});
const changeBody = z.strictObject({
  sitterId: uuid.nullable().optional(),
  rrule: timing.rrule.optional(),
  timeZone: timing.timeZone.optional(),
  startTime: timing.startTime.optional(),
  durationMinutes: timing.durationMinutes.optional(),
}).refine((b) => Object.keys(b).length > 0, 'give at least one of sitterId, rrule, timeZone, startTime, durationMinutes');
const listQuery = z.strictObject({
  clientId: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

/** Recurring schedules (S1, B7). */
export function schedulesRouter(ctx: SchedulingContext): Router {
  const router = Router();
  const auth = ctx.auth.required;

  router.post('/schedules', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const schedule = await createSchedule(ctx.prisma, me, parse(newScheduleBody, req.body));
    res.status(201).location(`/schedules/${schedule.id}`).json(schedule);
  });

  router.get('/schedules', auth, async (req, res) => {
    const me = principalOf(req);
    const q = parse(listQuery, req.query, 'query');
    res.json(await listSchedules(ctx.prisma, me, q));
  });

  router.patch('/schedules/:id', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const id = parse(uuid, req.params.id, 'params');
    res.json(await changeSchedule(ctx.prisma, me, id, parse(changeBody, req.body)));
  });

  router.delete('/schedules/:id', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const id = parse(uuid, req.params.id, 'params');
    res.json(await deleteSchedule(ctx.prisma, me, id));
  });

  return router;
}
