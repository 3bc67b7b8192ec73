import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import type { RosterEvent } from '@roster/contracts';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, lifecycle, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

// The notifications column of the cascade table, N2 (schedule e-mails, monitors) and B1 (dry runs).
describe('cascades: managers told, schedule e-mails, monitors, deactivated people (cascade table, N2, B1; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();
  const root = randomUUID();
  const branch = randomUUID();
  const otherBranch = randomUUID();
  const owner = userCreated(tenantId, { firstName: 'Olivia', lastName: 'Owner', email: 'owner@example.com', accountId: root, roleKey: 'owner' });
  const manager = userCreated(tenantId, { firstName: 'Max', lastName: 'Manager', email: 'manager@example.com', accountId: branch, roleKey: 'manager' });
  const elsewhere = userCreated(tenantId, { firstName: 'Eve', lastName: 'Elsewhere', email: 'elsewhere@example.com', accountId: otherBranch, roleKey: 'manager' });
  const sitter = userCreated(tenantId, { firstName: 'Sam', lastName: 'Sitter', email: 'sam@example.com', accountId: branch, roleKey: 'staff' });
  const ownerId = owner.data.personId;
  const managerId = manager.data.personId;
  const sitterId = sitter.data.personId;
  const bearer = (personId: string, roles: string[]) => system.tokens.bearer({ tenantId, personId, roles });
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const stepOf = (cause: RosterEvent) =>
    waitFor(`the step for ${cause.type}`, () => system.published.find((e) => e.type === 'cascade.step.completed' && e.data.causeEventId === cause.id));
  const digest = (date: string) => event('schedule.digest', tenantId, sitterId, {
    sitterId, date, timeZone: 'Europe/London',
    visits: [
      { visitId: randomUUID(), clientId: randomUUID(), clientName: 'Rex Dog', startsAt: `${date}T09:00:00Z`, endsAt: `${date}T10:00:00Z`, service: 'walk' },
      { visitId: randomUUID(), clientId: randomUUID(), clientName: null, startsAt: `${date}T14:30:00Z`, endsAt: `${date}T15:00:00Z`, service: null },
    ],
  });

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url });
    await system.publish(
      event('account.created', tenantId, root, { accountId: root, name: 'Paws HQ', kind: 'root', parentId: null, actor: SYSTEM }),
      event('account.created', tenantId, branch, { accountId: branch, name: 'Paws North', kind: 'branch', parentId: root, actor: SYSTEM }),
      event('account.created', tenantId, otherBranch, { accountId: otherBranch, name: 'Paws South', kind: 'branch', parentId: root, actor: SYSTEM }),
      owner, manager, elsewhere, sitter,
    );
    await waitFor('people and accounts', async () => (await system.service.ctx.prisma.personProjection.count()) === 4 && (await system.service.ctx.prisma.accountProjection.count()) === 3);
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  it("visits.unassigned: the owner above and the branch's manager get one 'N visits need a sitter' however many chunks; others nothing", async () => {
    const correlationId = randomUUID();
    const chunk = (index: number) => event('visits.unassigned', tenantId, sitterId, {
      sitterId, visitCount: 1200, visitIds: [randomUUID()], chunk: { index, total: 2 }, defaultSitterClearedFor: 3,
    }, { correlationId });
    await system.publish(chunk(0), chunk(1), chunk(0));
    const toOwner = await waitFor('owner told', () => mailsTo('owner@example.com').find((m) => m.subject === '1200 visits need a sitter'));
    await waitFor('manager told', () => mailsTo('manager@example.com').find((m) => m.subject === '1200 visits need a sitter'));
    assert.match(toOwner.text, /Sam Sitter is no longer available/);
    await sleep(500);
    assert.equal(mailsTo('owner@example.com').filter((m) => m.subject.includes('need a sitter')).length, 1);
    assert.equal(mailsTo('manager@example.com').filter((m) => m.subject.includes('need a sitter')).length, 1);
    assert.equal(mailsTo('elsewhere@example.com').length, 0, "another branch's manager is not told");
    assert.equal(mailsTo('sam@example.com').length, 0);
  });

  it('N2: monitors of user.deactivated and visits.unassigned tell their holder, with the departed sitter\'s name', async () => {
    const owners = bearer(ownerId, ['owner']);
    for (const eventType of ['user.deactivated', 'visits.unassigned']) {
      assert.equal((await request(system.service.url).post('/monitors').set(owners).send({ personId: elsewhere.data.personId, eventType })).status, 201);
    }
    const temp = userCreated(tenantId, { firstName: 'Tess', lastName: 'Temp', email: 'tess@example.com', accountId: otherBranch, roleKey: 'staff' });
    await system.publish(temp);
    await waitFor('Tess known', async () => (await system.service.ctx.prisma.personProjection.count({ where: { id: temp.data.personId } })) === 1);
    const deactivated = lifecycle('user.deactivated', tenantId, temp.data.personId, 2);
    await system.publish(deactivated, event('visits.unassigned', tenantId, temp.data.personId, {
      sitterId: temp.data.personId, visitCount: 3, visitIds: [randomUUID()], chunk: { index: 0, total: 1 }, defaultSitterClearedFor: 0,
    }, { correlationId: deactivated.correlationid }));
    const gone = await waitFor('the deactivation monitor', () => mailsTo('elsewhere@example.com').find((m) => m.subject === 'Roster: user.deactivated'));
    assert.match(gone.text, /Tess Temp was deactivated\./);
    const visits = await waitFor('the visits monitor', () => mailsTo('elsewhere@example.com').find((m) => m.subject === 'Roster: visits.unassigned'));
    assert.match(visits.text, /3 visits of Tess Temp need a sitter\./);
    // Eve manages the other branch, where Tess worked: told as a manager too, once.
    await waitFor('Eve told as a manager', () => mailsTo('elsewhere@example.com').find((m) => m.subject === '3 visits need a sitter'));
    for (const id of (await request(system.service.url).get('/monitors').set(owners)).body.items.map((m: { id: string }) => m.id)) {
      await request(system.service.url).delete(`/monitors/${id}`).set(owners);
    }
  });

  it('schedule.digest: nothing until the sitter subscribes (PUT /subscriptions), then one schedule e-mail per day', async () => {
    await system.publish(digest('2026-12-01'));
    await sleep(400);
    assert.equal(mailsTo('sam@example.com').length, 0, 'not subscribed');

    assert.equal((await request(system.service.url).put('/subscriptions').set(bearer(sitterId, ['staff'])).send({ scheduleEmails: true })).status, 200);
    const mine = await request(system.service.url).get('/subscriptions').set(bearer(sitterId, ['staff']));
    assert.deepEqual(mine.body, { personId: sitterId, scheduleEmails: true, dailyReminder: false, delivering: true });
    assert.equal((await request(system.service.url).put('/subscriptions').set(bearer(sitterId, ['staff'])).send({ personId: managerId, dailyReminder: true })).status, 403);
    assert.equal((await request(system.service.url).put('/subscriptions').set(bearer(sitterId, ['staff'])).send({})).status, 400);

    await system.publish(digest('2026-12-02'), digest('2026-12-02'));
    const mail = await waitFor('the schedule e-mail', () => mailsTo('sam@example.com').find((m) => m.subject === 'Your schedule for 2026-12-02'));
    assert.match(mail.text, /your 2 visits on 2026-12-02 \(Europe\/London\)/);
    assert.match(mail.text, /- 09:00–10:00 Rex Dog walk/);
    assert.match(mail.text, /- 14:30–15:00 a client/);
    await sleep(400);
    assert.equal(mailsTo('sam@example.com').filter((m) => m.subject === 'Your schedule for 2026-12-02').length, 1, 'one per sitter per day');
  });

  it("monitors: a dry run counts what would stop and changes nothing; deactivating the manager flags the monitor, tells the owner, and it stops firing", async () => {
    const owners = bearer(ownerId, ['owner']);
    const created = await request(system.service.url).post('/monitors').set(owners).send({ personId: managerId, eventType: 'invitation.created' });
    assert.equal(created.status, 201);
    assert.equal((await request(system.service.url).post('/monitors').set(owners).send({ personId: managerId, eventType: 'visit.nope' })).status, 400);
    assert.equal((await request(system.service.url).post('/monitors').set(bearer(sitterId, ['staff'])).send({ eventType: 'invitation.created' })).status, 403);

    const invite = (first: string) => {
      const invitationId = randomUUID();
      return event('invitation.created', tenantId, invitationId, {
        invitationId, accountId: branch, roleKey: 'staff', channel: 'email', token: system.seal('t'),
        invitee: { firstName: first, lastName: 'New', email: `${first.toLowerCase()}@example.com`, phone: null },
        expiresAt: '2026-12-10T00:00:00.000Z', resend: false, actor: SYSTEM,
      });
    };
    await system.publish(invite('First'));
    await waitFor('the monitor e-mail', () => mailsTo('manager@example.com').find((m) => m.subject === 'Roster: invitation.created'));

    const preview = event('cascade.preview_requested', tenantId, managerId, { action: 'deactivate', personId: managerId, kind: 'staff', roleKeys: ['manager'] });
    await system.publish(preview);
    const previewed = await stepOf(preview);
    assert.equal(previewed.type === 'cascade.step.completed' && previewed.data.outcome, 'previewed');
    assert.deepEqual(previewed.type === 'cascade.step.completed' && previewed.data.counts, { messagesCancelled: 0, scheduleEmailsStopped: 0, remindersStopped: 0, monitorsFlagged: 1, ownersTold: 1 }, 'the preview counts the owners the real run tells');
    assert.equal((await request(system.service.url).get('/monitors?review=true').set(owners)).body.items.length, 0, 'a dry run changes nothing');

    const deactivated = lifecycle('user.deactivated', tenantId, managerId, 2, ['manager']);
    await system.publish(deactivated);
    const step = await stepOf(deactivated);
    assert.equal(step.type === 'cascade.step.completed' && step.data.step, 'stop_messages');
    assert.deepEqual(step.type === 'cascade.step.completed' && step.data.counts, { messagesCancelled: 0, scheduleEmailsStopped: 0, remindersStopped: 0, monitorsFlagged: 1, ownersTold: 1 });
    const review = await request(system.service.url).get('/monitors?review=true').set(owners);
    assert.equal(review.body.items.length, 1);
    assert.equal(review.body.items[0].id, created.body.id);
    const told = await waitFor('the owner told', () => mailsTo('owner@example.com').find((m) => m.subject === '1 e-mail monitor needs review'));
    assert.match(told.text, /Max Manager was deactivated/);

    await system.publish(invite('Second'));
    await waitFor('the invitation itself', () => mailsTo('second@example.com')[0]);
    await sleep(400);
    assert.equal(mailsTo('manager@example.com').filter((m) => m.subject === 'Roster: invitation.created').length, 1, 'a flagged monitor stays silent');

    const handed = await request(system.service.url).patch(`/monitors/${created.body.id}`).set(owners).send({ personId: ownerId });
    assert.equal(handed.status, 200);
    assert.equal(handed.body.status, 'active');
    assert.equal((await request(system.service.url).patch(`/monitors/${created.body.id}`).set(owners).send({ personId: managerId })).status, 400, 'not to an inactive person');
    assert.equal((await request(system.service.url).delete(`/monitors/${created.body.id}`).set(bearer(randomUUID(), ['owner'])).set(system.tokens.bearer({ tenantId: randomUUID(), roles: ['owner'] }))).status, 404);
  });

  it('a deactivated sitter gets nothing more: queued messages cancelled, schedule e-mails stop, no access notice; reactivation resumes', async () => {
    const db = system.service.ctx.prisma;
    await db.message.create({ data: {
      id: randomUUID(), tenantId, idempotencyKey: `later:${randomUUID()}`, template: 'access_granted', channel: 'email', recipientPersonId: sitterId,
      toAddress: 'sam@example.com', variables: { firstName: 'Sam', accountName: 'x', roleKey: 'staff' }, nextAttemptAt: new Date(Date.now() + 3_600_000),
    } });
    const deactivated = lifecycle('user.deactivated', tenantId, sitterId, 2);
    await system.publish(deactivated);
    const step = await stepOf(deactivated);
    assert.deepEqual(step.type === 'cascade.step.completed' && step.data.counts, { messagesCancelled: 1, scheduleEmailsStopped: 1, remindersStopped: 0, monitorsFlagged: 0, ownersTold: 0 });

    const before = mailsTo('sam@example.com').length;
    const revoked = event('access.revoked', tenantId, sitterId, { personId: sitterId, accountId: branch, roleKey: 'staff', notBefore: new Date().toISOString(), actor: SYSTEM });
    await system.publish(digest('2026-12-03'), revoked);
    const revokedStep = await stepOf(revoked);
    assert.equal(revokedStep.type === 'cascade.step.completed' && revokedStep.data.step, 'send_access_revoked_notice');
    assert.deepEqual(revokedStep.type === 'cascade.step.completed' && revokedStep.data.counts, { messages: 0 });
    await sleep(500);
    assert.equal(mailsTo('sam@example.com').length, before, 'nothing reaches a deactivated person');

    // Older news never wins (rule 3): a stale reactivation changes nothing.
    const stale = lifecycle('user.reactivated', tenantId, sitterId, 1);
    await system.publish(stale);
    assert.equal((await stepOf(stale)).type === 'cascade.step.completed' && ((await stepOf(stale)) as { data: { outcome: string } }).data.outcome, 'stale_ignored');

    const reactivated = lifecycle('user.reactivated', tenantId, sitterId, 3);
    await system.publish(reactivated);
    const resumed = await stepOf(reactivated);
    assert.equal(resumed.type === 'cascade.step.completed' && resumed.data.counts.scheduleEmailsResumed, 1);
    await system.publish(digest('2026-12-04'));
    await waitFor('the schedule e-mail again', () => mailsTo('sam@example.com').find((m) => m.subject === 'Your schedule for 2026-12-04'));
  });
});
