import assert from 'node:assert/strict';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { NEW_PASSWORD, type Roster } from './client.js';

const hour = 3_600_000;
const at = (offsetHours: number) => new Date(Date.now() + offsetHours * hour).toISOString();

/**
 * The pet-sitting business (cascade table: sitter / staff deactivated; L1, L3, L4, S1, S2, P5, P7,
 * N2, B2): the owner grants a sitter a login, the credentials arrive by e-mail, the first login
 * must change the password; the sitter has visits, a schedule and is default sitter for two
 * clients; then the sitter leaves.
 */
export async function petSittingWorkflow(roster: Roster): Promise<void> {
  const { tenantId, rootAccountId, owner } = await roster.tenantWithOwner('Happy Paws', 'olive@happypaws.example');
  const sitterId = await roster.person(owner, { kind: 'staff', firstName: 'Sam', lastName: 'Whiskers', email: 'sam@happypaws.example', accountId: rootAccountId, roleKey: 'staff' });
  const managerId = await roster.person(owner, { kind: 'staff', firstName: 'Mia', lastName: 'Dispatch', email: 'mia@happypaws.example', accountId: rootAccountId, roleKey: 'manager' });
  const clients = [
    await roster.person(owner, { kind: 'client', firstName: 'Ada', lastName: 'Beagle', email: 'ada@clients.example', accountId: rootAccountId }),
    await roster.person(owner, { kind: 'client', firstName: 'Bob', lastName: 'Tabby', email: 'bob@clients.example', accountId: rootAccountId }),
  ];
  assert.ok(managerId);

  // L1, L3, L4: a login with a temporary password, e-mailed; the first login must change it.
  const sitter = await roster.personWithLogin(owner, sitterId, 'sam@happypaws.example', 'sam.whiskers');
  const me = await roster.expect(200, 'identity', 'GET', '/me', { token: sitter });
  assert.equal(me.personId, sitterId);
  assert.equal(me.tenantId, tenantId);

  // S1: visits (one past, one completed, three upcoming), a schedule, default sitter for two clients.
  await waitFor('scheduling to know the sitter and clients', async () =>
    (await roster.call('scheduling', 'PUT', `/clients/${clients[0]}/default-sitter`, { token: owner, body: { sitterId } })).status === 200 || null);
  await roster.known('scheduling', `/clients/${clients[1]}`, owner);
  await roster.expect(200, 'scheduling', 'PUT', `/clients/${clients[1]}/default-sitter`, { token: owner, body: { sitterId } });
  const visit = async (clientId: string, offsetHours: number) =>
    (await roster.expect(201, 'scheduling', 'POST', '/visits', { token: owner, body: { clientId, sitterId, startsAt: at(offsetHours), endsAt: at(offsetHours + 1), service: 'walk' } })).id as string;
  const past = await visit(clients[0]!, -48);
  const done = await visit(clients[0]!, -24);
  const upcoming = [await visit(clients[0]!, 24), await visit(clients[1]!, 48), await visit(clients[1]!, 72)];
  // S2: the sitter sees their own schedule and marks a visit complete.
  await roster.expect(200, 'scheduling', 'POST', `/visits/${done}/complete`, { token: sitter });
  // Not one that has not started (issue 16): a 409 that says when it starts.
  const early = await roster.call('scheduling', 'POST', `/visits/${upcoming[0]}/complete`, { token: sitter });
  assert.equal(early.status, 409, JSON.stringify(early.body));
  assert.match(early.body.detail, /has not started yet/);
  const own = await roster.expect(200, 'scheduling', 'GET', `/visits?sitterId=${sitterId}`, { token: sitter });
  assert.equal(own.items.length, 5);
  await roster.expect(201, 'scheduling', 'POST', '/schedules', {
    token: owner, body: { clientId: clients[1], sitterId, rrule: 'FREQ=WEEKLY;BYDAY=MO,WE,FR', timeZone: 'Europe/London', startTime: '09:00', durationMinutes: 30 },
  });
  const scheduled = await roster.expect(200, 'scheduling', 'GET', `/visits?sitterId=${sitterId}&from=${at(0)}`, { token: owner });
  const upcomingCount = scheduled.items.length as number;
  assert.ok(upcomingCount > upcoming.length, 'the schedule generated visits');

  // N2: the sitter receives the automatic schedule e-mails.
  await roster.expect(200, 'notifications', 'PUT', '/subscriptions', { token: sitter, body: { scheduleEmails: true } });

  // P5: the sitter leaves.
  const operation = await roster.cascade(`/people/${sitterId}/deactivate`, owner, { reason: 'moved away' });
  const step = (service: string) => operation.steps.find((s: { service: string }) => s.service === service);
  assert.ok(step('identity') && step('scheduling') && step('notifications'), JSON.stringify(operation.steps));

  // Every upcoming visit unassigned; past and completed visits unchanged.
  const after = await roster.expect(200, 'scheduling', 'GET', `/visits?clientId=${clients[1]}&from=${at(0)}`, { token: owner });
  assert.ok(after.items.length > 0);
  assert.ok(after.items.every((v: { sitterId: string | null }) => v.sitterId === null), 'no upcoming visit keeps the sitter');
  const unassigned = await roster.expect(200, 'scheduling', 'GET', `/visits?unassigned=true&from=${at(0)}&limit=500`, { token: owner });
  assert.equal(unassigned.items.length, upcomingCount);
  for (const id of [past, done]) {
    const v = await roster.expect(200, 'scheduling', 'GET', `/visits/${id}`, { token: owner });
    assert.equal(v.sitterId, sitterId, 'past and completed visits keep their sitter');
  }
  // Removed as default sitter for both clients.
  for (const clientId of clients) {
    const client = await roster.expect(200, 'scheduling', 'GET', `/clients/${clientId}`, { token: owner });
    assert.equal(client.defaultSitterId, null);
  }
  // Managers are told how many visits need a sitter.
  const notice = await roster.mailbox.waitFor('mia@happypaws.example', /sitter/i);
  assert.match(notice.text, new RegExp(`\\b${upcomingCount}\\b`));

  // B2: the sitter's token is refused by all four services.
  await roster.expect(401, 'identity', 'GET', '/me', { token: sitter });
  await roster.expect(401, 'directory', 'GET', `/people/${sitterId}`, { token: sitter });
  await roster.expect(401, 'scheduling', 'GET', `/visits?sitterId=${sitterId}`, { token: sitter });
  await roster.expect(401, 'notifications', 'GET', '/subscriptions', { token: sitter });
  // And the login itself is off.
  const relogin = await roster.call('identity', 'POST', '/sessions', { body: { username: 'sam.whiskers', password: NEW_PASSWORD } });
  assert.ok([401, 403].includes(relogin.status), `login after deactivation: ${relogin.status}`);

  // P7: the sitter is found only with a leading minus, and not in the sitter picker.
  const found = await roster.expect(200, 'directory', 'GET', '/people?q=whiskers', { token: owner });
  assert.equal(found.items.length, 0);
  const inactive = await roster.expect(200, 'directory', 'GET', '/people?q=-whiskers', { token: owner });
  assert.deepEqual(inactive.items.map((p: { id: string }) => p.id), [sitterId]);
  const picker = await roster.expect(200, 'directory', 'GET', '/people?roleKey=staff', { token: owner });
  assert.ok(!picker.items.some((p: { id: string }) => p.id === sitterId));

  // N2: the automatic schedule e-mails stopped.
  const subscriptions = await roster.expect(200, 'notifications', 'GET', `/subscriptions?personId=${sitterId}`, { token: owner });
  assert.equal(subscriptions.delivering, false, JSON.stringify(subscriptions));
  assert.equal(step('notifications').counts.scheduleEmailsStopped, 1);
}
