import assert from 'node:assert/strict';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { NEW_PASSWORD, type Roster } from './client.js';

const hour = 3_600_000;
const at = (offsetHours: number) => new Date(Date.now() + offsetHours * hour).toISOString();
const ids = (list: { items: { id: string }[] }) => list.items.map((i) => i.id);

/**
 * A client leaves (cascade table: client deactivated; P5, P7, S1): future incomplete visits and
 * their surcharges are deleted, schedules removed, past visits kept, the client is found only with
 * `-name`, their login is refused.
 */
export async function clientDeactivatedWorkflow(roster: Roster): Promise<void> {
  const { rootAccountId, owner } = await roster.tenantWithOwner('Sparkle Cleaning', 'olive@sparkle.example');
  const cleaner = await roster.person(owner, { kind: 'staff', firstName: 'Cleo', lastName: 'Mop', email: 'cleo@sparkle.example', accountId: rootAccountId, roleKey: 'staff' });
  const clientId = await roster.person(owner, { kind: 'client', firstName: 'Carla', lastName: 'Dustworth', email: 'carla@clients.example', accountId: rootAccountId });
  const client = await roster.personWithLogin(owner, clientId, 'carla@clients.example', 'carla.dustworth');

  await waitFor('scheduling to know the client and cleaner', async () =>
    (await roster.call('scheduling', 'POST', '/visits', { token: owner, body: { clientId, sitterId: cleaner, startsAt: at(-72), endsAt: at(-71) } })).status === 201 || null);
  const past = (await roster.expect(200, 'scheduling', 'GET', `/visits?clientId=${clientId}`, { token: owner })).items[0].id as string;
  const future = await roster.expect(201, 'scheduling', 'POST', '/visits', { token: owner, body: { clientId, sitterId: cleaner, startsAt: at(30), endsAt: at(32) } });
  await roster.expect(201, 'scheduling', 'POST', `/visits/${future.id}/surcharges`, { token: owner, body: { amount: 15, reason: 'holiday' } });
  await roster.expect(201, 'scheduling', 'POST', '/schedules', {
    token: owner, body: { clientId, sitterId: cleaner, rrule: 'FREQ=WEEKLY;BYDAY=TU', timeZone: 'America/New_York', startTime: '10:00', durationMinutes: 120 },
  });
  // The client sees their own calendar.
  const calendar = await roster.expect(200, 'scheduling', 'GET', '/visits', { token: client });
  assert.ok(calendar.items.length >= 3 && calendar.items.every((v: { clientId: string }) => v.clientId === clientId));

  const operation = await roster.cascade(`/people/${clientId}/deactivate`, owner, { reason: 'moved out of the area' });
  const scheduling = operation.steps.find((s: { service: string }) => s.service === 'scheduling');
  assert.ok(scheduling.counts && Object.values(scheduling.counts).some((n) => (n as number) > 0), JSON.stringify(scheduling));

  const visits = await roster.expect(200, 'scheduling', 'GET', `/visits?clientId=${clientId}`, { token: owner });
  assert.deepEqual(ids(visits), [past], 'only the past visit is kept');
  await roster.expect(404, 'scheduling', 'GET', `/visits/${future.id}`, { token: owner });
  const schedules = await roster.expect(200, 'scheduling', 'GET', `/schedules?clientId=${clientId}`, { token: owner });
  assert.equal(schedules.items.length, 0);

  assert.equal((await roster.expect(200, 'directory', 'GET', '/people?q=dustworth', { token: owner })).items.length, 0);
  assert.deepEqual(ids(await roster.expect(200, 'directory', 'GET', '/people?q=-dustworth', { token: owner })), [clientId]);
  await roster.expect(401, 'scheduling', 'GET', '/visits', { token: client });
  const relogin = await roster.call('identity', 'POST', '/sessions', { body: { username: 'carla.dustworth', password: NEW_PASSWORD } });
  assert.ok([401, 403].includes(relogin.status));
}

/**
 * A manager leaves (cascade table: manager deactivated; N2): their login is refused; the event
 * e-mail monitors they held are flagged for review and the owners are told, instead of firing at
 * an inactive person.
 */
export async function managerDeactivatedWorkflow(roster: Roster): Promise<void> {
  const { rootAccountId, owner } = await roster.tenantWithOwner('Walkies Ltd', 'olive@walkies.example');
  const managerId = await roster.person(owner, { kind: 'staff', firstName: 'Max', lastName: 'Monitor', email: 'max@walkies.example', accountId: rootAccountId, roleKey: 'manager' });
  const manager = await roster.personWithLogin(owner, managerId, 'max@walkies.example', 'max.monitor');
  const monitor = await roster.expect(201, 'notifications', 'POST', '/monitors', { token: manager, body: { eventType: 'user.created' } });

  const operation = await roster.cascade(`/people/${managerId}/deactivate`, owner, { reason: 'retired' });
  assert.ok(operation.steps.some((s: { service: string }) => s.service === 'notifications'));

  await roster.expect(401, 'notifications', 'GET', '/monitors', { token: manager });
  const relogin = await roster.call('identity', 'POST', '/sessions', { body: { username: 'max.monitor', password: NEW_PASSWORD } });
  assert.ok([401, 403].includes(relogin.status));
  const review = await roster.expect(200, 'notifications', 'GET', '/monitors?review=true', { token: owner });
  assert.deepEqual(ids(review), [monitor.id]);
  const told = await roster.mailbox.waitFor('olive@walkies.example', /monitor|review/i);
  assert.match(told.text, /Max|Monitor/);
}

/**
 * A sales team (P2, P3, L7, B5, P6): the four user types see and do what their role allows; a
 * salesperson sees only their assigned clients; the owner logs in as the salesperson (reason,
 * `act`, audited under both); archiving the salesperson makes the password unusable and flags
 * their clients as orphaned; restore needs a new password.
 */
export async function salesTeamWorkflow(roster: Roster): Promise<void> {
  const { rootAccountId, ownerId, owner } = await roster.tenantWithOwner('Acme Sales', 'olive@acme.example');
  const staff = async (firstName: string, roleKey: string) =>
    roster.person(owner, { kind: 'staff', firstName, lastName: 'Acme', email: `${firstName.toLowerCase()}@acme.example`, accountId: rootAccountId, roleKey });
  const adminId = await staff('Ann', 'admin');
  const standardId = await staff('Stan', 'standard');
  const salesId = await staff('Sally', 'salesperson');
  const [mine, theirs] = [
    await roster.person(owner, { kind: 'client', firstName: 'Mina', lastName: 'Prospect', accountId: rootAccountId }),
    await roster.person(owner, { kind: 'client', firstName: 'Theo', lastName: 'Prospect', accountId: rootAccountId }),
  ];
  await roster.expect(200, 'directory', 'PUT', `/clients/${mine}/assignee`, { token: owner, body: { staffId: salesId } });

  const admin = await roster.personWithLogin(owner, adminId, 'ann@acme.example', 'ann.acme');
  const standard = await roster.personWithLogin(owner, standardId, 'stan@acme.example', 'stan.acme');
  const sales = await roster.personWithLogin(owner, salesId, 'sally@acme.example', 'sally.acme');

  // What each sees: owner and admin everything, the salesperson only their assigned client.
  for (const token of [owner, admin, standard]) {
    const clients = ids(await roster.expect(200, 'directory', 'GET', '/people?kind=client', { token }));
    assert.deepEqual(clients.sort(), [mine, theirs].sort());
  }
  assert.deepEqual(ids(await roster.expect(200, 'directory', 'GET', '/people?kind=client', { token: sales })), [mine]);
  await roster.expect(404, 'directory', 'GET', `/people/${theirs}`, { token: sales });
  // What each may do: a standard user cannot deactivate people; the salesperson cannot grant logins.
  await roster.expect(403, 'directory', 'POST', `/people/${theirs}/deactivate`, { token: standard, body: {} });
  await roster.expect(403, 'identity', 'POST', '/logins', { token: sales, body: { personId: mine, username: 'mina.prospect' } });

  // L7, B5: the owner logs in as the salesperson, with a reason; the token says who acts.
  await roster.expect(400, 'identity', 'POST', '/impersonations', { token: owner, body: { personId: salesId } });
  const acting = await roster.expect(201, 'identity', 'POST', '/impersonations', { token: owner, body: { personId: salesId, reason: 'checking what Sally sees (ticket 42)' } });
  const me = await roster.expect(200, 'identity', 'GET', '/me', { token: acting.accessToken });
  assert.equal(me.personId, salesId);
  assert.equal(me.actor?.personId ?? me.actor, ownerId);
  assert.deepEqual(ids(await roster.expect(200, 'directory', 'GET', '/people?kind=client', { token: acting.accessToken })), [mine]);
  await roster.expect(200, 'directory', 'PATCH', `/people/${mine}`, { token: acting.accessToken, body: { phone: '+44 20 7946 0999' } });
  await roster.expect(403, 'identity', 'POST', '/impersonations', { token: acting.accessToken, body: { personId: standardId, reason: 'looking at Stan through Sally' } });
  // Nobody impersonates someone more privileged.
  await roster.expect(403, 'identity', 'POST', '/impersonations', { token: admin, body: { personId: ownerId, reason: 'trying to act as the owner' } });
  const audit = await roster.expect(200, 'directory', 'GET', `/audit?subjectId=${mine}`, { token: owner });
  assert.ok(JSON.stringify(audit).includes(ownerId) && JSON.stringify(audit).includes(salesId), 'the edit is audited under both people');
  // Issue 16 item 4: the impersonation itself, start and end, is on the trail of both people.
  await roster.expect(204, 'identity', 'DELETE', '/sessions/current', { token: acting.accessToken });
  for (const [subjectId, role] of [[salesId, 'impersonated'], [ownerId, 'impersonator']] as const) {
    const trail = await waitFor(`the impersonation on the trail of the ${role}`, async () => {
      const items = (await roster.expect(200, 'directory', 'GET', `/audit?subjectId=${subjectId}`, { token: owner })).items as { action: string; detail: Record<string, string> }[];
      const mine = items.filter((e) => e.detail?.impersonationId === acting.impersonationId);
      return mine.length === 2 ? mine : null;
    });
    assert.deepEqual(trail.map((e) => [e.action, e.detail.role]).sort(), [['impersonation.ended', role], ['impersonation.started', role]]);
    assert.equal(trail.find((e) => e.action === 'impersonation.started')?.detail.reason, 'checking what Sally sees (ticket 42)');
    assert.equal(trail.find((e) => e.action === 'impersonation.ended')?.detail.endedBy, 'logout');
  }

  // P6: archive the salesperson → password unusable, their client orphaned; restore → a new password is needed.
  await roster.cascade(`/people/${salesId}/archive`, owner, { reason: 'left' });
  const relogin = await roster.call('identity', 'POST', '/sessions', { body: { username: 'sally.acme', password: NEW_PASSWORD } });
  assert.ok([401, 403].includes(relogin.status));
  const orphan = await roster.expect(200, 'directory', 'GET', `/people/${mine}`, { token: owner });
  assert.equal(orphan.orphaned, true);
  assert.equal((await roster.expect(200, 'directory', 'GET', '/people?q=sally', { token: owner })).items.length, 0);
  assert.deepEqual(ids(await roster.expect(200, 'directory', 'GET', '/people?status=archived', { token: owner })), [salesId]);
  await roster.cascade(`/people/${salesId}/restore`, owner, {});
  const stillRefused = await roster.call('identity', 'POST', '/sessions', { body: { username: 'sally.acme', password: NEW_PASSWORD } });
  assert.ok([401, 403].includes(stillRefused.status), 'a restored user has no usable password');
  await roster.expect(200, 'identity', 'POST', `/logins/${salesId}/new-password`, { token: owner, body: {} });
  const mail = await waitFor('the new-password e-mail', () => roster.mailbox.to('sally@acme.example').length >= 2 ? roster.mailbox.to('sally@acme.example').at(-1)! : null);
  assert.match(mail.text, /password/i);
}
