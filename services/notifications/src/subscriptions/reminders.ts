import type { SqlClient } from '@roster/platform/db/database';

/** Daily reminders go out from this hour (UTC) on. */
export const REMINDER_HOUR_UTC = 7;

/**
 * N2: queues today's daily reminder for every active person who opted in (profile `dailyReminder`
 * or `PUT /subscriptions`). Safe with several replicas running it at once: the idempotency key
 * `daily_reminder:<day>:<person>` under the unique index lets one row per person per day exist,
 * and the senders' claims send each row once. Returns how many it queued.
 */
export async function queueDailyReminders(db: SqlClient, publicUrl: string, now = new Date()): Promise<number> {
  if (now.getUTCHours() < REMINDER_HOUR_UTC) return 0;
  const day = now.toISOString().slice(0, 10);
  // Every tenant at once: each row is written with its own subscriber's tenant.
  return db.$executeRawUnsafe(
    `INSERT INTO message (id, tenant_id, idempotency_key, cause_type, template, channel, recipient_person_id, to_address, variables)
     SELECT gen_random_uuid(), s.tenant_id, 'daily_reminder:' || $1 || ':' || s.person_id, 'daily_reminder', 'daily_reminder', 'email',
            p.id, p.email, jsonb_build_object('firstName', COALESCE(p.first_name, ''), 'date', $1::text, 'link', $2::text)
       FROM subscription s JOIN person_projection p ON p.id = s.person_id AND p.tenant_id = s.tenant_id
      WHERE s.daily_reminder AND p.status = 'active' AND p.email IS NOT NULL
     ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
    day, publicUrl,
  );
}
