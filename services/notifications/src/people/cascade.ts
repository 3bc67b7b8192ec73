import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import type { BusLogger } from '@roster/platform/bus/types';
import type { CascadeEffect, PersonEvent, PersonLifecycle, StepReport } from '@roster/platform/people-projection';
import { countActiveMonitorsOf, fireMonitors, FLAG_MONITORS, monitorHoldersSql, tellOwnersOfFlaggedMonitors, type MonitorHolder } from '../monitors/monitors.js';
import { applyProfile } from './projection.js';
import { displayName, findPerson, ownersOf } from './recipients.js';

const count = async (tx: SqlTx, sql: string, ...values: unknown[]): Promise<number> => {
  const [row] = await tx.$queryRawUnsafe<{ n: bigint }[]>(sql, ...values);
  return Number(row?.n ?? 0);
};

/** What stops with the person: automatic schedule e-mails and daily reminders they subscribed to. */
async function subscriptionsOf(tx: SqlTx, tenantId: string, personId: string): Promise<{ scheduleEmailsStopped: number; remindersStopped: number }> {
  const [row] = await tx.$queryRawUnsafe<{ schedule: boolean; reminder: boolean }[]>(
    'SELECT schedule_emails AS schedule, daily_reminder AS reminder FROM subscription WHERE person_id = $1::uuid AND tenant_id = $2::uuid', personId, tenantId,
  );
  return { scheduleEmailsStopped: row?.schedule ? 1 : 0, remindersStopped: row?.reminder ? 1 : 0 };
}

const QUEUED_TO = `FROM message WHERE tenant_id = $1::uuid AND recipient_person_id = $2::uuid AND status = 'queued'`;

/**
 * Notifications' column of the cascade table: an inactive person receives nothing more (queued
 * messages to them are cancelled, and the senders check the projection's status before each
 * send), their schedule e-mails and reminders stop (the subscriptions stay, for a reactivation),
 * and the event e-mail monitors they hold are flagged for review and reported to the owners.
 * One statement for the three and for who watches the event (issue 19: a statement per event is
 * what a cascade costs); the owners' e-mail when monitors were flagged.
 */
async function stopMessages(tx: SqlTx, event: PersonEvent): Promise<{ report: StepReport; watchers: MonitorHolder[] }> {
  const { personId } = event.data;
  const [row] = await tx.$queryRawUnsafe<{ cancelled: number; flagged: number; schedule: boolean | null; reminder: boolean | null; watchers: MonitorHolder[] }[]>(
    `WITH cancelled AS (
       UPDATE message SET status = 'cancelled', sealed_secret = NULL, last_error = 'the recipient was deactivated', updated_at = now()
        WHERE tenant_id = $1::uuid AND recipient_person_id = $2::uuid AND status = 'queued' RETURNING 1),
     flagged AS (${FLAG_MONITORS} RETURNING 1)
     SELECT (SELECT count(*) FROM cancelled)::int AS cancelled, (SELECT count(*) FROM flagged)::int AS flagged,
            s.schedule_emails AS schedule, s.daily_reminder AS reminder,
            (SELECT coalesce(json_agg(w), '[]'::json) FROM (${monitorHoldersSql('$1::uuid', '$3')}) w) AS watchers
       FROM (SELECT 1) one LEFT JOIN subscription s ON s.person_id = $2::uuid AND s.tenant_id = $1::uuid`,
    event.tenantid, personId, event.type,
  );
  const monitors = await tellOwnersOfFlaggedMonitors(tx, event, personId, row?.flagged ?? 0);
  return {
    report: { counts: { messagesCancelled: row?.cancelled ?? 0, scheduleEmailsStopped: row?.schedule ? 1 : 0, remindersStopped: row?.reminder ? 1 : 0, ...monitors } },
    watchers: row?.watchers ?? [],
  };
}

export const stopMessagesToPerson: CascadeEffect = {
  step: 'stop_messages',
  apply: async (tx, event) => (await stopMessages(tx, event)).report,
};

/** B1: what a deactivation or archive would stop, changing nothing (the same counts as `stopMessagesToPerson`). */
export async function previewStopOfMessages(tx: SqlTx, event: EventOf<'cascade.preview_requested'>): Promise<StepReport & { step: string }> {
  const { personId } = event.data;
  const monitorsFlagged = await countActiveMonitorsOf(tx, event.tenantid, personId);
  // Owners are told only when there are monitors to review.
  const ownersTold = monitorsFlagged > 0 ? (await ownersOf(tx, event.tenantid, personId)).length : 0;
  return {
    step: 'stop_messages',
    counts: {
      messagesCancelled: await count(tx, `SELECT count(*) AS n ${QUEUED_TO}`, event.tenantid, personId),
      ...(await subscriptionsOf(tx, event.tenantid, personId)),
      monitorsFlagged,
      ownersTold,
    },
  };
}

/** A reactivated person receives messages again; their subscriptions resume. Flagged monitors stay with the owners' review. */
export const resumeMessagesToPerson: CascadeEffect = {
  step: 'resume_messages',
  async apply(tx, event) {
    const s = await subscriptionsOf(tx, event.tenantid, event.data.personId);
    return { counts: { recipientsResumed: 1, scheduleEmailsResumed: s.scheduleEmailsStopped, remindersResumed: s.remindersStopped } };
  },
};

/** A deactivation also fires the event e-mail monitors watching for it ("… was deactivated."). */
const deactivation: CascadeEffect = {
  step: stopMessagesToPerson.step,
  async apply(tx, event) {
    const { report, watchers } = await stopMessages(tx, event);
    await fireMonitors(tx, event, async () => `${displayName(await findPerson(tx, event.tenantid, event.data.personId))} was deactivated.`, watchers);
    return report;
  },
};

/**
 * Notifications' column of the cascade table on the platform's person lifecycle mechanism, plus
 * what only notifications keeps: names, e-mail, phone and the daily reminder opt-in of
 * `user.created` / `user.updated`, applied only when the event is the newest version (rule 3),
 * and the first membership of a created staff member.
 */
export const notificationsLifecycle = (logger: BusLogger): PersonLifecycle => ({
  service: 'notifications',
  logger,
  effects: { 'user.deactivated': deactivation, 'user.archived': stopMessagesToPerson, 'user.reactivated': resumeMessagesToPerson, 'user.restored': resumeMessagesToPerson },
  preview: previewStopOfMessages,
  recordProfile: async (tx, e, fresh) => {
    if (fresh) await applyProfile(tx, e);
  },
});
