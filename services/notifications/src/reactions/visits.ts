import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally, type QueueOutcome } from '../messages/enqueue.js';
import { fireMonitors } from '../monitors/monitors.js';
import { displayName, findPerson, managersOf, MANAGING_ROLES } from '../people/recipients.js';
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
  const sitter = await findPerson(tx, event.tenantid, d.sitterId);
  const outcomes: QueueOutcome[] = [];
  for (const manager of await managersOf(tx, event.tenantid, d.sitterId, MANAGING_ROLES)) {
    outcomes.push(await enqueueMessage(tx, {
      tenantId: event.tenantid, cause: event, template: 'visits_need_sitter', channel: 'email', recipientPersonId: manager.id, to: manager.email,
      variables: { firstName: manager.firstName ?? '', count: d.visitCount, sitterName: displayName(sitter, 'a sitter') },
      idempotencyKey: `visits_need_sitter:${event.correlationid}:${d.sitterId}:${manager.id}`,
    }));
  }
  const n = d.visitCount;
  await fireMonitors(tx, event, `${plural(n, 'visit', 'visits')} of ${displayName(sitter, 'a sitter')} ${pluralForm(n, 'needs', 'need')} a sitter.`);
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
