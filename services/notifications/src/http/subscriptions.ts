import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { NotificationsContext } from '../service.js';
import { findPerson } from '../people/recipients.js';

const query = z.strictObject({ personId: z.uuid().optional() });
const body = z.strictObject({ personId: z.uuid().optional(), scheduleEmails: z.boolean().optional(), dailyReminder: z.boolean().optional() })
  .refine((b) => b.scheduleEmails !== undefined || b.dailyReminder !== undefined, 'set scheduleEmails and/or dailyReminder');

/** N2: a person's automatic schedule e-mails and daily reminder. One's own always; others' with subscriptions.manage. */
export function subscriptionsRouter(ctx: NotificationsContext): Router {
  const router = Router();
  const db = ctx.prisma;

  const subjectOf = async (req: Request, personId: string | undefined): Promise<{ tenantId: string; personId: string }> => {
    const me = principalOf(req);
    if (!personId || personId === me.personId) return { tenantId: me.tenantId, personId: me.personId };
    requirePermission(me, 'subscriptions.manage');
    if (!(await findPerson(db, me.tenantId, personId))) throw notFound(`person ${personId}`);
    return { tenantId: me.tenantId, personId };
  };
  const read = async (tenantId: string, personId: string) => {
    const [row] = await db.$queryRawUnsafe<{ schedule_emails: boolean; daily_reminder: boolean }[]>(
      'SELECT schedule_emails, daily_reminder FROM subscription WHERE person_id = $1::uuid AND tenant_id = $2::uuid', personId, tenantId,
    );
    return { personId, scheduleEmails: row?.schedule_emails ?? false, dailyReminder: row?.daily_reminder ?? false };
  };

  router.get('/subscriptions', ctx.auth.required, async (req, res) => {
    const q = parse(query, req.query, 'query');
    const who = await subjectOf(req, q.personId);
    res.json(await read(who.tenantId, who.personId));
  });

  router.put('/subscriptions', ctx.auth.required, async (req, res) => {
    const b = parse(body, req.body);
    const who = await subjectOf(req, b.personId);
    const updated = await db.$executeRawUnsafe(
      `INSERT INTO subscription (person_id, tenant_id, schedule_emails, daily_reminder) VALUES ($1::uuid, $2::uuid, COALESCE($3, false), COALESCE($4, false))
       ON CONFLICT (person_id) DO UPDATE
         SET schedule_emails = COALESCE($3, subscription.schedule_emails), daily_reminder = COALESCE($4, subscription.daily_reminder), updated_at = now()
       WHERE subscription.tenant_id = EXCLUDED.tenant_id`,
      who.personId, who.tenantId, b.scheduleEmails ?? null, b.dailyReminder ?? null,
    );
    if (updated !== 1) throw notFound(`person ${who.personId}`);
    res.json(await read(who.tenantId, who.personId));
  });
  return router;
}
