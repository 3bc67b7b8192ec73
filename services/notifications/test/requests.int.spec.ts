import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import type { DeadLetter } from '@roster/platform/bus/types';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, lifecycle, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

// S3, N2, C3: a client's request reaches the managers' monitors once; the client hears the answer.
describe('client requests: monitors hear them, the client is told the answer (S3, N2, C3; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();
  const root = randomUUID();
  const owner = userCreated(tenantId, { firstName: 'Olivia', lastName: 'Owner', email: 'owner@example.com', accountId: root, roleKey: 'owner' });
  const manager = userCreated(tenantId, { firstName: 'Max', lastName: 'Manager', email: 'manager@example.com', accountId: root, roleKey: 'manager' });
  const client = userCreated(tenantId, { kind: 'client', firstName: 'Ada', lastName: 'Beagle', email: 'ada@example.com', accountId: root, roleKey: null });
  const clientId = client.data.personId;
  const owners = () => system.tokens.bearer({ tenantId, personId: owner.data.personId, roles: ['owner'] });
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const submitted = (requestId = randomUUID()) => event('request.submitted', tenantId, clientId, {
    requestId, clientId, clientName: 'Ada Beagle', kind: 'visits', note: 'the key is with the neighbour', timeZone: 'Europe/London', visitId: null,
    visits: [
      { startsAt: '2031-03-03T10:00:00Z', endsAt: '2031-03-03T11:00:00Z', service: 'walk' },
      { startsAt: '2031-03-04T10:00:00Z', endsAt: '2031-03-04T11:00:00Z', service: null },
    ],
    actor: { kind: 'person', personId: clientId, impersonatorId: null },
  });

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url, SCHEDULING_PUBLIC_URL: 'https://visits.acme.test/' });
    await system.publish(event('account.created', tenantId, root, { accountId: root, name: 'Paws HQ', kind: 'root', parentId: null, actor: SYSTEM }), owner, manager, client);
    await waitFor('people', async () => (await system.service.ctx.prisma.personProjection.count({ where: { tenantId } })) === 3);
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  it('request.submitted: each holder of an active monitor gets one e-mail with the client, what was asked and a link, also when delivered twice', async () => {
    const monitor = await request(system.service.url).post('/monitors').set(owners()).send({ personId: manager.data.personId, eventType: 'request.submitted' });
    assert.equal(monitor.status, 201, JSON.stringify(monitor.body));
    const asked = submitted();
    await system.publish(asked, asked);
    const mail = await waitFor('the monitor e-mail', () => mailsTo('manager@example.com').find((m) => m.subject === 'Client request from Ada Beagle'));
    assert.match(mail.text, /Hello Max/);
    assert.match(mail.text, /Ada Beagle asked for 2 visits/);
    assert.match(mail.text, /Mon 3 Mar(ch)?, 10:00–11:00 walk/, 'the window in the request\'s zone (London, GMT in March)');
    assert.match(mail.text, /Note: the key is with the neighbour/);
    assert.ok(mail.text.includes(`https://visits.acme.test/requests/${asked.data.requestId}`), mail.text);
    await system.publish(asked);
    await sleep(500);
    assert.equal(mailsTo('manager@example.com').filter((m) => m.subject === 'Client request from Ada Beagle').length, 1, 'once however often delivered');
    assert.equal(mailsTo('owner@example.com').length, 0, 'only the monitors\' holders');
  });

  it('C3: with the manager deactivated first, the monitor is flagged and stays silent on the next request', async () => {
    await system.publish(lifecycle('user.deactivated', tenantId, manager.data.personId, 2, ['manager']));
    await waitFor('the monitor flagged', async () => (await request(system.service.url).get('/monitors?review=true').set(owners())).body.items.length === 1 || null);
    const before = mailsTo('manager@example.com').length;
    const asked = submitted();
    await system.publish(asked);
    await waitFor('the request handled', async () => (await system.service.ctx.prisma.$queryRawUnsafe<unknown[]>('SELECT 1 FROM inbox WHERE event_id = $1', asked.id)).length === 1 || null);
    await sleep(300);
    assert.equal(mailsTo('manager@example.com').length, before, 'no e-mail from a monitor under review');
  });

  it('request.approved and request.declined: the client is told, with the visits booked or the reason; once each', async () => {
    const approved = event('request.approved', tenantId, clientId, {
      requestId: randomUUID(), clientId, kind: 'visits', visitIds: [randomUUID()], timeZone: 'America/New_York', sitterId: null,
      visits: [{ startsAt: '2031-03-05T15:00:00Z', endsAt: '2031-03-05T16:00:00Z', service: 'walk' }],
      actor: { kind: 'person', personId: manager.data.personId, impersonatorId: null },
    });
    const declined = event('request.declined', tenantId, clientId, {
      requestId: randomUUID(), clientId, kind: 'cancel', reason: 'the visit no longer exists', actor: SYSTEM,
    });
    await system.publish(approved, declined, approved);
    const yes = await waitFor('the approval', () => mailsTo('ada@example.com').find((m) => m.subject === 'Your request was approved'));
    assert.match(yes.text, /your request for 1 visit was approved/);
    assert.match(yes.text, /Wed 5 Mar(ch)?, 10:00–11:00 walk/, 'in New York time');
    const no = await waitFor('the decline', () => mailsTo('ada@example.com').find((m) => m.subject === 'Your request was declined'));
    assert.match(no.text, /the cancellation of a visit was declined: the visit no longer exists/);
    await sleep(300);
    assert.equal(mailsTo('ada@example.com').length, 2);
  });

  it('a deactivated client is told nothing more', async () => {
    await system.publish(lifecycle('user.deactivated', tenantId, clientId, 2, ['client']));
    await waitFor('the client inactive', async () => (await system.service.ctx.prisma.personProjection.findFirst({ where: { id: clientId } }))?.status === 'inactive' || null);
    const before = mailsTo('ada@example.com').length;
    const declined = event('request.declined', tenantId, clientId, { requestId: randomUUID(), clientId, kind: 'visits', reason: 'full', actor: SYSTEM });
    await system.publish(declined);
    await waitFor('the answer handled', async () => (await system.service.ctx.prisma.$queryRawUnsafe<unknown[]>('SELECT 1 FROM inbox WHERE event_id = $1', declined.id)).length === 1 || null);
    await sleep(300);
    assert.equal(mailsTo('ada@example.com').length, before);
  });

  it('a request.submitted that breaks its schema goes to the dead letters with the reason and sends nothing', async () => {
    const bad = submitted();
    (bad.data as { kind: unknown }).kind = 'teleport';
    const before = smtp.received.length;
    const dead: DeadLetter[] = [];
    const listening = await system.bus.consumeDeadLetters('notifications', async (l) => void dead.push(l));
    await system.bus.publish([bad as never]);
    const letter = await waitFor('the dead letter', () => dead.find((l) => l.eventId === bad.id) ?? null);
    await listening.close();
    assert.match(letter.reason, /kind/);
    await sleep(300);
    assert.equal(smtp.received.length, before);
  });
});
