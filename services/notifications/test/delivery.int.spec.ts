import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { runtimeOf } from '../src/runtime.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

/** A port nothing listens on: an SMTP server that is down. */
async function deadSmtpUrl(): Promise<string> {
  const s = await startSmtpServer();
  await s.close();
  return s.url;
}

async function accessNotice(system: NotificationsSystem, tenantId: string, email: string) {
  const person = userCreated(tenantId, { firstName: 'Dee', email });
  await system.publish(person);
  await waitFor('projection', () => system.service.ctx.prisma.personProjection.findUnique({ where: { id: person.data.personId } }));
  const granted = event('access.granted', tenantId, person.data.personId, { personId: person.data.personId, accountId: randomUUID(), roleKey: 'staff', actor: SYSTEM });
  await system.publish(granted);
  return granted;
}

/** Waits until the message to `to` is recorded in its final state (the e-mail may arrive a moment before). */
const settled = (system: NotificationsSystem, to: string, status = 'sent') =>
  waitFor(`the message to ${to} ${status}`, () => system.service.ctx.prisma.message.findFirst({ where: { toAddress: to, status } }));

const metric = async (url: string, name: string, labels: string): Promise<number> => {
  const text = (await request(url).get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(name) && labels.split(',').every((p) => l.includes(p)));
  return line ? Number(line.split(' ').pop()) : 0;
};

// B6: an ordered list of SMTP servers; the next one takes over when one fails.
describe('SMTP failover (B6; Postgres + real SMTP)', () => {
  let live: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();

  beforeAll(async () => {
    live = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: `${await deadSmtpUrl()},${live.url}` });
  });
  afterAll(async () => {
    await system?.stop();
    await live?.close();
  });

  it('a dead first SMTP server fails over to the second; the log shows both provider attempts', async () => {
    await accessNotice(system, tenantId, 'failover@example.com');
    const mail = await waitFor('the e-mail through the second server', () => live.received.find((m) => m.to.includes('failover@example.com')));
    assert.equal(mail.subject.startsWith('You have access'), true);
    await settled(system, 'failover@example.com');
    const res = await request(system.service.url).get('/messages?to=failover@example.com').set(system.tokens.bearer({ tenantId, roles: ['admin'] }));
    const [logged] = res.body.items;
    assert.equal(logged.status, 'sent');
    assert.equal(logged.provider, `smtp:127.0.0.1:${live.port}`);
    assert.deepEqual(logged.providerAttempts.map((a: { outcome: string }) => a.outcome), ['transient_failure', 'sent']);
    assert.ok(await metric(system.service.url, 'roster_notifications_failovers_total', 'channel="email"') >= 1);
  });
});

// N1: retries with backoff on transient failures, permanent failures reported, nothing lost on a restart.
describe('sending: retries, permanent failures, claims that outlive their replica (N1; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();
  const owner = () => system.tokens.bearer({ tenantId, roles: ['owner'] });

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  it('a temporary SMTP refusal (451) is retried after a backoff and the message is sent once', async () => {
    smtp.failNext(1, 451);
    await accessNotice(system, tenantId, 'retry@example.com');
    await waitFor('the e-mail after a retry', () => smtp.received.find((m) => m.to.includes('retry@example.com')));
    await settled(system, 'retry@example.com');
    const res = await request(system.service.url).get('/messages?to=retry@example.com').set(owner());
    const [logged] = res.body.items;
    assert.equal(logged.status, 'sent');
    assert.equal(logged.attempts, 2);
    assert.deepEqual(logged.providerAttempts.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome]), [[1, 'transient_failure'], [2, 'sent']]);
    assert.match(logged.providerAttempts[0].error, /451/);
    assert.equal(smtp.received.filter((m) => m.to.includes('retry@example.com')).length, 1);
    assert.equal(await metric(system.service.url, 'roster_notifications_retried_total', 'channel="email"'), 1);
    assert.ok(await metric(system.service.url, 'roster_notifications_sent_total', 'channel="email"') >= 1);
  });

  it('a permanent refusal (550) marks the message failed with the reason and publishes notification.failed', async () => {
    smtp.failNext(1, 550);
    const cause = await accessNotice(system, tenantId, 'gone@example.com');
    const failed = await waitFor('notification.failed', () => system.published.find((e) => e.type === 'notification.failed' && e.correlationid === cause.correlationid));
    assert.match(failed.type === 'notification.failed' ? failed.data.reason : '', /550/);
    const res = await request(system.service.url).get('/messages?status=failed&to=gone@example.com').set(owner());
    assert.equal(res.body.items.length, 1);
    assert.equal(res.body.items[0].attempts, 1, 'not retried');
    assert.equal(await metric(system.service.url, 'roster_notifications_failed_total', 'channel="email"'), 1);
  });

  it('a message claimed by a replica that died is sent when the claim expires, and a live claim is left alone', async () => {
    const db = system.service.ctx.prisma;
    const row = (id: string, to: string, claimedUntil: Date) => ({
      id, tenantId, idempotencyKey: `restart:${id}`, template: 'access_granted', channel: 'email', toAddress: to,
      variables: { firstName: 'Rae', accountName: 'North', roleKey: 'staff' }, status: 'sending', attempts: 1,
      claimedBy: 'notifications-dead', claimedUntil,
    });
    const expired = randomUUID();
    const live = randomUUID();
    await db.message.create({ data: row(expired, 'expired-claim@example.com', new Date(Date.now() - 1_000)) });
    await db.message.create({ data: row(live, 'live-claim@example.com', new Date(Date.now() + 60_000)) });
    runtimeOf(system.service.ctx).sender.nudge();
    await waitFor('the e-mail of the expired claim', () => smtp.received.find((m) => m.to.includes('expired-claim@example.com')));
    await settled(system, 'expired-claim@example.com');
    const sent = await db.message.findUniqueOrThrow({ where: { id: expired } });
    assert.equal(sent.status, 'sent');
    assert.equal(sent.attempts, 2);
    const held = await db.message.findUniqueOrThrow({ where: { id: live } });
    assert.equal(held.status, 'sending');
    assert.equal(held.claimedBy, 'notifications-dead');
    assert.equal(smtp.received.filter((m) => m.to.includes('live-claim@example.com')).length, 0);
  });

  it('pages the delivery log with a cursor and never crosses tenants', async () => {
    const first = await request(system.service.url).get('/messages?limit=2').set(owner());
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await request(system.service.url).get(`/messages?limit=2&cursor=${first.body.nextCursor}`).set(owner());
    const ids = [...first.body.items, ...second.body.items].map((m: { id: string }) => m.id);
    assert.equal(new Set(ids).size, ids.length);
    const other = await request(system.service.url).get('/messages').set(system.tokens.bearer({ tenantId: randomUUID(), roles: ['owner'] }));
    assert.deepEqual(other.body.items, []);
    const id = first.body.items[0].id;
    assert.equal((await request(system.service.url).get(`/messages/${id}`).set(system.tokens.bearer({ tenantId: randomUUID(), roles: ['owner'] }))).status, 404);
    assert.equal((await request(system.service.url).get('/messages?status=lost').set(owner())).status, 400);
    assert.equal((await request(system.service.url).get('/messages?cursor=garbage').set(owner())).status, 400);
    assert.equal((await request(system.service.url).get('/messages').set(system.tokens.bearer({ tenantId, roles: ['staff'] }))).status, 403);
  });
});
