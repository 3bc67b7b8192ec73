import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, enqueueMessages, tally } from '../messages/enqueue.js';
import { fireMonitors, monitorHoldersSql, type MonitorHolder } from '../monitors/monitors.js';
import { displayName, findPerson, MANAGERS_CTE, MANAGING_ROLES, personSql, type Person } from '../people/recipients.js';
import { localTime, plural, pluralForm } from '../templates/render.js';
import type { Reaction } from './react.js';

/**
 * Cascade (sitter deactivated): the managers of the sitter's accounts (owner, admin, manager, here
 * or above in the tree) get "N visits need a sitter", once per cascade however the ids were chunked.
 */
export async function tellManagersVisitsNeedSitter(tx: SqlTx, event: EventOf<'visits.unassigned'>): Promise<Reaction> {
  const d = event.data;
  // Every chunk is a step of the cascade (the operation awaits one per visits.unassigned, issue 16 item 3).
  const step = 'tell_managers_visits_need_sitter';
  if (d.visitCount === 0) return { step, counts: { messages: 0 }, detail: 'no visit lost its sitter' };
  if (d.chunk.index !== 0) return { step, counts: { messages: 0 }, detail: 'the managers are told once, with the first chunk' };
  // The sitter, their managers and who watches the event: one statement (issue 19), and the e-mails one more.
  const [audience] = await tx.$queryRawUnsafe<{ sitter: Person | null; managers: Person[]; watchers: MonitorHolder[] }[]>(
    `WITH ${MANAGERS_CTE}
     SELECT (SELECT row_to_json(s) FROM (${personSql('$1::uuid', '$2::uuid')}) s) AS sitter,
            (SELECT coalesce(json_agg(m), '[]'::json) FROM managers m) AS managers,
            (SELECT coalesce(json_agg(w), '[]'::json) FROM (${monitorHoldersSql('$1::uuid', '$4')}) w) AS watchers`,
    event.tenantid, d.sitterId, MANAGING_ROLES, event.type,
  );
  const sitterName = displayName(audience?.sitter ?? null, 'a sitter');
  const outcomes = await enqueueMessages(tx, (audience?.managers ?? []).map((manager) => ({
    tenantId: event.tenantid, cause: event, template: 'visits_need_sitter', channel: 'email' as const, recipientPersonId: manager.id, to: manager.email,
    variables: { firstName: manager.firstName ?? '', count: d.visitCount, sitterName },
    idempotencyKey: `visits_need_sitter:${event.correlationid}:${d.sitterId}:${manager.id}`,
  })));
  const n = d.visitCount;
  await fireMonitors(tx, event, `${plural(n, 'visit', 'visits')} of ${sitterName} ${pluralForm(n, 'needs', 'need')} a sitter.`, audience?.watchers ?? []);
  return { step, counts: tally(outcomes) };
}


/** N2: the automatic schedule e-mail, when the sitter subscribed and is active; once per sitter per day. */
export async function sendDailySchedule(tx: SqlTx, event: EventOf<'schedule.digest'>): Promise<Reaction> {
  const d = event.data;
  const [subscribed] = await tx.$queryRawUnsafe<{ ok: boolean }[]>(
    'SELECT schedule_emails AS ok FROM subscription WHERE person_id = $1::uuid AND tenant_id = $2::uuid', d.sitterId, event.tenantid,
  );
  const sitter = await findPerson(tx, event.tenantid, d.sitterId);
  if (!subscribed?.ok || sitter?.status !== 'active') return { counts: { messages: 0 } };
  const outcome = await enqueueMessage(tx, {
    tenantId: event.tenantid, cause: event, template: 'daily_schedule', channel: 'email', recipientPersonId: d.sitterId, to: sitter.email,
    variables: {
      firstName: sitter.firstName ?? '', date: d.date, timeZone: d.timeZone, visitCount: d.visits.length,
      visits: d.visits.map((v) => ({ startsAt: localTime(v.startsAt, d.timeZone), endsAt: localTime(v.endsAt, d.timeZone), clientName: v.clientName ?? 'a client', service: v.service ?? '' })),
    },
    idempotencyKey: `daily_schedule:${d.date}:${d.sitterId}`,
  });
  return { counts: tally([outcome]) };
}
