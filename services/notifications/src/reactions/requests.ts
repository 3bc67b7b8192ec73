import type { EventOf, RequestKind } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { enqueueMessage, tally } from '../messages/enqueue.js';
import { fireMonitors } from '../monitors/monitors.js';
import { displayName, findPerson } from '../people/recipients.js';
import { DAY_AND_CLOCK, localTime, plural } from '../templates/render.js';
import type { Reaction } from './react.js';

interface Window { startsAt: string; endsAt: string; service: string | null }

/** A window as the client reads it, in the request's zone: "Mon 8 Dec, 10:00" to "11:00". */
function windowsIn(visits: readonly Window[], timeZone: string) {
  return visits.map((v) => ({ startsAt: localTime(v.startsAt, timeZone, DAY_AND_CLOCK), endsAt: localTime(v.endsAt, timeZone), service: v.service ?? '' }));
}

/** What was asked, in words: "2 visits", "a change of a visit", "the cancellation of a visit". */
const askedFor = (kind: RequestKind, count: number): string =>
  kind === 'visits' ? plural(count, 'visit', 'visits') : kind === 'change' ? 'a change of a visit' : 'the cancellation of a visit';

/**
 * N2, S3: a client's request makes every active monitor for `request.submitted` send one e-mail to
 * its holder (client name, what was asked, a link to the request); monitors under review (their
 * holder deactivated, C3) stay silent. Once per event and holder, however often it is delivered.
 */
export async function tellMonitorsOfRequest(tx: SqlTx, event: EventOf<'request.submitted'>, schedulingUrl: string): Promise<Reaction> {
  const d = event.data;
  const outcomes = await fireMonitors(tx, event, {
    template: 'client_request',
    variables: {
      clientName: d.clientName ?? 'A client', asked: askedFor(d.kind, d.visits.length), note: d.note ?? '',
      visits: windowsIn(d.visits, d.timeZone), link: `${schedulingUrl}/requests/${d.requestId}`,
    },
  });
  return { counts: tally(outcomes) };
}

/**
 * S3: the client is told the answer to their request, approved (with the visits booked) or
 * declined (with the reason) — unless they left meanwhile (no more messages to a deactivated client).
 */
export async function tellClientOfAnswer(tx: SqlTx, event: EventOf<'request.approved'> | EventOf<'request.declined'>): Promise<Reaction> {
  const d = event.data;
  const client = await findPerson(tx, event.tenantid, d.clientId);
  if (client?.status !== 'active') return { counts: { messages: 0 } };
  const approved = event.type === 'request.approved';
  const booked = approved ? event.data.visits ?? [] : [];
  const count = approved ? booked.length || event.data.visitIds.length : 1;
  const outcome = await enqueueMessage(tx, {
    tenantId: event.tenantid, cause: event, template: approved ? 'request_approved' : 'request_declined', channel: 'email',
    recipientPersonId: d.clientId, to: client.email,
    variables: approved
      ? { firstName: client.firstName ?? displayName(client), asked: askedFor(d.kind, count), visits: windowsIn(booked, event.data.timeZone ?? 'UTC') }
      : { firstName: client.firstName ?? displayName(client), asked: askedFor(d.kind, count), reason: event.data.reason },
  });
  return { counts: tally([outcome]) };
}
