import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import type { RunningService } from '@roster/platform/service';
import type { NotificationsDb } from '../src/db/client.js';
import { runtimeOf } from '../src/runtime.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, lifecycle, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

// N2 and issue 8 ("a single send per scheduled message" with several replicas): two notifications
// workers on one database, at the same time.
describe('two workers on one database: a single send per scheduled message (N2, issue 8; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  let second: RunningService<NotificationsDb>;
  const tenantId = randomUUID();
  const count = (address: string) => smtp.received.filter((m) => m.to.includes(address)).length;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url });
    second = await system.replica();
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  it('daily reminders: both workers run the job at once, repeatedly; each opted-in active person gets one reminder per day', async () => {
    const optedIn = Array.from({ length: 12 }, (_, i) => userCreated(tenantId, { firstName: `Rem${i}`, email: `rem${i}@example.com`, dailyReminder: true }));
    const byApi = userCreated(tenantId, { firstName: 'Api', email: 'api@example.com' });
    const notOptedIn = userCreated(tenantId, { firstName: 'No', email: 'no@example.com' });
    const inactive = userCreated(tenantId, { firstName: 'Gone', email: 'gone@example.com', dailyReminder: true });
    await system.publish(...optedIn, byApi, notOptedIn, inactive);
    await system.publish(lifecycle('user.deactivated', tenantId, inactive.data.personId, 2));
    await waitFor('projections', async () => (await system.service.ctx.prisma.personProjection.count({ where: { tenantId } })) === 15
      && (await system.service.ctx.prisma.personProjection.count({ where: { tenantId, status: 'inactive' } })) === 1);
    const put = await request(second.url).put('/subscriptions').set(system.tokens.bearer({ tenantId, personId: byApi.data.personId, roles: ['staff'] })).send({ dailyReminder: true });
    assert.deepEqual(put.body, { personId: byApi.data.personId, scheduleEmails: false, dailyReminder: true, delivering: true });

    const early = new Date('2026-12-01T05:00:00Z');
    assert.equal(await runtimeOf(system.service.ctx).queueReminders(early), 0, 'not before the reminder hour');

    const morning = new Date('2026-12-01T08:00:00Z');
    const workers = [runtimeOf(system.service.ctx), runtimeOf(second.ctx)];
    const queued = (await Promise.all(Array.from({ length: 6 }, (_, i) => workers[i % 2]!.queueReminders(morning)))).reduce((a, b) => a + b, 0);
    assert.equal(queued, 13, 'one row per person, whichever worker wrote it');

    await waitFor('13 reminders', () => smtp.received.filter((m) => m.subject === 'Your Roster reminder for 2026-12-01').length >= 13);
    await sleep(800);
    for (let i = 0; i < 12; i++) assert.equal(count(`rem${i}@example.com`), 1, `rem${i}`);
    assert.equal(count('api@example.com'), 1);
    assert.equal(count('no@example.com'), 0);
    assert.equal(count('gone@example.com'), 0);
    const senders = await system.service.ctx.prisma.$queryRawUnsafe<{ n: bigint }[]>("SELECT count(*) AS n FROM message WHERE template = 'daily_reminder' AND status = 'sent'");
    assert.equal(Number(senders[0]!.n), 13);

    const nextDay = (await Promise.all(workers.map((w) => w.queueReminders(new Date('2026-12-02T07:30:00Z'))))).reduce((a, b) => a + b, 0);
    assert.equal(nextDay, 13, 'the next day is a new reminder');
  });

  it('a burst of events handled by both workers: every message sent once, none lost', async () => {
    const people = Array.from({ length: 40 }, (_, i) => userCreated(tenantId, { firstName: `B${i}`, email: `burst${i}@example.com` }));
    await system.publish(...people);
    await waitFor('projections', async () => (await system.service.ctx.prisma.personProjection.count({ where: { tenantId, firstName: { startsWith: 'B' } } })) === 40);
    const grants = people.map((p) => event('access.granted', tenantId, p.data.personId, { personId: p.data.personId, accountId: randomUUID(), roleKey: 'staff', actor: SYSTEM }));
    await system.publish(...grants, ...grants);
    await waitFor('40 notices', () => smtp.received.filter((m) => m.to.some((t) => t.startsWith('burst'))).length >= 40);
    await sleep(800);
    for (let i = 0; i < 40; i++) assert.equal(count(`burst${i}@example.com`), 1, `burst${i}`);
  });
});
