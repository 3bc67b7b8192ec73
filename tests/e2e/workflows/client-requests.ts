import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { Roster } from './client.js';

const hour = 3_600_000;
const at = (offsetHours: number) => new Date(Date.now() + offsetHours * hour).toISOString();
const CLIENT_REQUEST = /^Client request from /;

/**
 * LeashTime's first workflow (issue 18; S3, N2, C3, P9): a client signs in and asks for two visits;
 * the manager's event e-mail monitor tells the manager once (also when scheduling's outbox relays
 * the event a second time); the manager approves; the visits exist with the client's default
 * sitter; the client gets the confirmation; the audit trail shows who asked and who answered.
 * Then, with the manager deactivated first, the monitor is flagged and the next request sends them
 * nothing; the owner declines it with a reason and the client is told.
 */
export async function clientRequestWorkflow(roster: Roster): Promise<void> {
  const { rootAccountId, owner } = await roster.tenantWithOwner('LeashTime Pets', 'olive@leashtime.example');
  const managerId = await roster.person(owner, { kind: 'staff', firstName: 'Mona', lastName: 'Dispatch', email: 'mona@leashtime.example', accountId: rootAccountId, roleKey: 'manager' });
  const sitterId = await roster.person(owner, { kind: 'staff', firstName: 'Sid', lastName: 'Walker', email: 'sid@leashtime.example', accountId: rootAccountId, roleKey: 'staff' });
  const clientId = await roster.person(owner, { kind: 'client', firstName: 'Ada', lastName: 'Beagle', email: 'ada@leashclients.example', accountId: rootAccountId });
  const manager = await roster.personWithLogin(owner, managerId, 'mona@leashtime.example', 'mona.dispatch');
  const client = await roster.personWithLogin(owner, clientId, 'ada@leashclients.example', 'ada.beagle');
  await waitFor('scheduling to know the client and the sitter', async () =>
    (await roster.call('scheduling', 'PUT', `/clients/${clientId}/default-sitter`, { token: owner, body: { sitterId } })).status === 200 || null);
  const monitor = await roster.expect(201, 'notifications', 'POST', '/monitors', { token: manager, body: { eventType: 'request.submitted' } });

  // The client asks for two visits.
  const windows = [{ startsAt: at(50), endsAt: at(51), service: 'walk' }, { startsAt: at(74), endsAt: at(75), service: 'walk' }];
  const asked = await roster.expect(201, 'scheduling', 'POST', '/requests', {
    token: client, body: { kind: 'visits', visits: windows, note: 'Rex pulls on the lead', timeZone: 'America/Chicago' },
  });
  assert.equal(asked.status, 'pending');
  const told = await roster.mailbox.waitFor('mona@leashtime.example', CLIENT_REQUEST, 30_000);
  assert.match(told.subject, /Ada Beagle/);
  assert.match(told.text, /asked for 2 visits/);
  assert.match(told.text, /Rex pulls on the lead/);
  assert.ok(told.text.includes(`/requests/${asked.id}`), `a link to the request:\n${told.text}`);

  // Delivered twice: the outbox relays request.submitted again (at least once, rule 2); no second e-mail.
  await relayAgain(roster, asked.id);
  await sleep(1_500);
  assert.equal(roster.mailbox.to('mona@leashtime.example').filter((m) => CLIENT_REQUEST.test(m.subject)).length, 1, 'the monitor e-mail arrives once');

  // The manager answers: the visits are created with the default sitter; the client is told.
  const pending = await roster.expect(200, 'scheduling', 'GET', '/requests?status=pending', { token: manager });
  assert.deepEqual(pending.items.map((r: { id: string }) => r.id), [asked.id]);
  const approved = await roster.expect(200, 'scheduling', 'POST', `/requests/${asked.id}/approve`, { token: manager });
  assert.equal(approved.visitIds.length, 2);
  const again = await roster.call('scheduling', 'POST', `/requests/${asked.id}/approve`, { token: manager });
  assert.equal(again.status, 409, 'answered once');
  const calendar = await roster.expect(200, 'scheduling', 'GET', '/visits', { token: client });
  assert.deepEqual(calendar.items.map((v: { id: string }) => v.id).sort(), [...approved.visitIds].sort(), 'the client sees exactly the two visits');
  assert.ok(calendar.items.every((v: { sitterId: string; service: string }) => v.sitterId === sitterId && v.service === 'walk'), JSON.stringify(calendar.items));
  const confirmation = await roster.mailbox.waitFor('ada@leashclients.example', /approved/, 30_000);
  assert.match(confirmation.text, /2 visits was approved|2 visits were approved|request for 2 visits/);

  // P9: who asked and who answered, on the client's trail.
  const trail = await waitFor('the request on the audit trail', async () => {
    const audit = await roster.expect(200, 'directory', 'GET', `/audit?subjectId=${clientId}&limit=100`, { token: owner });
    const entries = audit.items as { action: string; actor: { kind: string; personId: string | null }; detail: { requestId?: string } }[];
    return entries.some((e) => e.action === 'request.approved') ? entries : null;
  }, 30_000);
  const submittedEntries = trail.filter((e) => e.action === 'request.submitted' && e.detail.requestId === asked.id);
  assert.equal(submittedEntries.length, 1, `once on the trail, though relayed twice: ${JSON.stringify(trail)}`);
  assert.equal(submittedEntries[0]!.actor.personId, clientId);
  assert.ok(trail.some((e) => e.action === 'request.approved' && e.actor.personId === managerId), JSON.stringify(trail));

  // C3: the manager leaves first; their monitor is flagged and the next request sends them nothing.
  await roster.cascade(`/people/${managerId}/deactivate`, owner, { reason: 'moved on' });
  const review = await roster.expect(200, 'notifications', 'GET', '/monitors?review=true', { token: owner });
  assert.deepEqual(review.items.map((m: { id: string }) => m.id), [monitor.id]);
  const second = await roster.expect(201, 'scheduling', 'POST', '/requests', { token: client, body: { kind: 'visits', visits: [{ startsAt: at(98), endsAt: at(99) }] } });
  await waitFor('the second request to reach the audit trail', async () => {
    const audit = await roster.expect(200, 'directory', 'GET', `/audit?subjectId=${clientId}&limit=100`, { token: owner });
    return audit.items.some((e: { action: string; detail: { requestId?: string } }) => e.action === 'request.submitted' && e.detail.requestId === second.id) || null;
  }, 30_000);
  await roster.expect(200, 'scheduling', 'POST', `/requests/${second.id}/decline`, { token: owner, body: { reason: 'no sitter free that week' } });
  const declined = await roster.mailbox.waitFor('ada@leashclients.example', /declined/, 30_000);
  assert.match(declined.text, /no sitter free that week/);
  assert.equal(roster.mailbox.to('mona@leashtime.example').filter((m) => CLIENT_REQUEST.test(m.subject)).length, 1, 'a flagged monitor stays silent');
}

/** Makes scheduling's relay publish the request's `request.submitted` once more, as an at-least-once relay may. */
async function relayAgain(roster: Roster, requestId: string): Promise<void> {
  const db = new pg.Client({ connectionString: roster.system.envOf('scheduling').DATABASE_URL });
  await db.connect();
  try {
    const { rowCount } = await db.query(
      `UPDATE outbox SET published_at = NULL WHERE type = 'request.submitted' AND envelope -> 'data' ->> 'requestId' = $1`, [requestId],
    );
    assert.equal(rowCount, 1, 'the request.submitted outbox row');
    await waitFor('the second relay', async () =>
      (await db.query(`SELECT 1 FROM outbox WHERE type = 'request.submitted' AND envelope -> 'data' ->> 'requestId' = $1 AND published_at IS NOT NULL`, [requestId])).rowCount === 1 || null);
  } finally {
    await db.end();
  }
}
