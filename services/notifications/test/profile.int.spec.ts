import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

// Rule 1 and rule 3: notifications' own projection of people (where messages go), ordered by version.
describe('person projection: addresses and opt-ins follow the newest profile (rule 3, N2; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  it('a changed e-mail address is used from then on; an older update arriving late changes nothing', async () => {
    const created = userCreated(tenantId, { firstName: 'Pat', email: 'pat.old@example.com' });
    const personId = created.data.personId;
    const profile = (version: number, email: string, dailyReminder: boolean) => event('user.updated', tenantId, personId, {
      personId, kind: 'staff', firstName: 'Pat', lastName: 'Sitter', email, phone: null, dailyReminder, actor: SYSTEM,
    }, { subjectVersion: version });
    await system.publish(created);
    await system.publish(profile(3, 'pat.new@example.com', true));
    await system.publish(profile(2, 'pat.stale@example.com', false));
    await waitFor('the newest profile', async () => (await system.service.ctx.prisma.personProjection.findUnique({ where: { id: personId } }))?.version === 3);
    await new Promise((r) => setTimeout(r, 300));
    const person = await system.service.ctx.prisma.personProjection.findUniqueOrThrow({ where: { id: personId } });
    assert.equal(person.email, 'pat.new@example.com');

    const mine = await request(system.service.url).get('/subscriptions').set(system.tokens.bearer({ tenantId, personId, roles: ['staff'] }));
    assert.equal(mine.body.dailyReminder, true, 'the opt-in of the newest profile');
    const asManager = await request(system.service.url).get(`/subscriptions?personId=${personId}`).set(system.tokens.bearer({ tenantId, roles: ['manager'] }));
    assert.equal(asManager.status, 200);
    assert.equal(asManager.body.dailyReminder, true);
    assert.equal((await request(system.service.url).get(`/subscriptions?personId=${personId}`).set(system.tokens.bearer({ tenantId: randomUUID(), roles: ['owner'] }))).status, 404, 'another tenant');

    await system.publish(event('access.granted', tenantId, personId, { personId, accountId: randomUUID(), roleKey: 'staff', actor: SYSTEM }));
    const mail = await waitFor('the notice', () => smtp.received.find((m) => m.subject.startsWith('You have access')));
    assert.deepEqual(mail.to, ['pat.new@example.com']);
  });
});
