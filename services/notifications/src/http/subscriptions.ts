import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { NotificationsContext } from '../context.js';
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
  // The choices are kept while a person is inactive (a reactivation resumes them); `delivering`
  // says whether anything is sent now, so nobody reads a deactivated sitter's `true` as "still e-mailed".
  const read = async (tenantId: string, personId: string) => {
    const [row] = await db.$queryRawUnsafe<{ schedule_emails: boolean | null; daily_reminder: boolean | null; status: string | null }[]>(
      `SELECT s.schedule_emails, s.daily_reminder, p.status
         FROM (SELECT $1::uuid AS person_id, $2::uuid AS tenant_id) who
         LEFT JOIN subscription s ON s.person_id = who.person_id AND s.tenant_id = who.tenant_id
         LEFT JOIN person_projection p ON p.id = who.person_id AND p.tenant_id = who.tenant_id`,
      personId, tenantId,
    );
    const delivering = (row?.status ?? 'active') === 'active';
    return {
      personId, scheduleEmails: row?.schedule_emails ?? false, dailyReminder: row?.daily_reminder ?? false, delivering,
      ...(delivering ? {} : { stoppedBecause: `the person is ${row?.status}` }),
    };
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
