import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

// N3: per-tenant templates, validated on the way in; a message is rendered with its tenant's version.
describe('templates API (N3; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();
  const otherTenant = randomUUID();
  const owner = () => system.tokens.bearer({ tenantId, roles: ['owner'] });

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  it('lists every default with its declared variables', async () => {
    const res = await request(system.service.url).get('/templates').set(owner());
    assert.equal(res.status, 200);
    const keys = res.body.items.map((t: { key: string }) => t.key);
    for (const k of ['client_login_credentials', 'staff_login_credentials', 'new_password', 'access_granted', 'access_revoked',
      'invitation_email', 'invitation_sms', 'visits_need_sitter', 'daily_schedule', 'daily_reminder', 'monitors_need_review']) {
      assert.ok(keys.includes(k), k);
    }
    const creds = res.body.items.find((t: { key: string }) => t.key === 'staff_login_credentials');
    assert.equal(creds.overridden, false);
    assert.ok('password' in creds.variables);
  });

  it('refuses an unknown variable (400), an oversize template (413), an unknown key (404), a manager (403); nothing changes', async () => {
    const unknown = await request(system.service.url).put('/templates/staff_login_credentials').set(owner())
      .send({ subject: 'Welcome', body: 'Hi {{firstName}}, your pin is {{pin}}' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.type, 'application/problem+json');
    assert.match(unknown.body.detail, /unknown variable pin/);

    const big = await request(system.service.url).put('/templates/staff_login_credentials').set(owner())
      .send({ subject: 'Welcome', body: `{{password}} ${'x'.repeat(70 * 1024)}` });
    assert.equal(big.status, 413);

    assert.equal((await request(system.service.url).put('/templates/no_such_template').set(owner()).send({ subject: 'a', body: 'b' })).status, 404);
    const manager = await request(system.service.url).put('/templates/staff_login_credentials')
      .set(system.tokens.bearer({ tenantId, roles: ['manager'] })).send({ subject: 'a', body: 'b' });
    assert.equal(manager.status, 403);
    assert.equal((await request(system.service.url).put('/templates/staff_login_credentials').send({ subject: 'a', body: 'b' })).status, 401);

    const after = await request(system.service.url).get('/templates/staff_login_credentials').set(owner());
    assert.equal(after.body.overridden, false);
  });

  it("a tenant's override is what its people receive; another tenant still gets the default", async () => {
    const put = await request(system.service.url).put('/templates/staff_login_credentials').set(owner())
      .send({ subject: 'Welcome aboard, {{firstName}}', body: 'Login {{username}} / {{password}} at {{loginUrl}}' });
    assert.equal(put.status, 200);
    assert.equal(put.body.overridden, true);

    for (const [tenant, to] of [[tenantId, 'ours@example.com'], [otherTenant, 'theirs@example.com']] as const) {
      const person = userCreated(tenant, { firstName: 'Olga', email: to });
      await system.publish(person);
      await waitFor('projection', () => system.service.ctx.prisma.personProjection.findUnique({ where: { id: person.data.personId } }));
      await system.publish(event('login.granted', tenant, person.data.personId, {
        personId: person.data.personId, username: 'olga', temporary: true, expiresAt: null,
        delivery: { channel: 'email', template: 'staff_login_credentials', to }, secret: system.seal('S3cret-pass'), actor: SYSTEM,
      }));
    }
    const ours = await waitFor('our e-mail', () => smtp.received.find((m) => m.to.includes('ours@example.com')));
    const theirs = await waitFor('their e-mail', () => smtp.received.find((m) => m.to.includes('theirs@example.com')));
    assert.equal(ours.subject, 'Welcome aboard, Olga');
    assert.match(ours.text, /Login olga \/ S3cret-pass at http:\/\/localhost:4001/);
    assert.equal(theirs.subject, 'Your staff login');
  });

  it('a template that cannot render is reported as a failed message with the reason, never sent half-rendered', async () => {
    // A stored override that no longer renders (written before a variable was renamed, say).
    await system.service.ctx.prisma.messageTemplate.create({ data: { tenantId, key: 'access_granted', subject: 'Access', body: 'Hi {{firstName}} {{gone}}' } });
    const person = userCreated(tenantId, { firstName: 'Ava', email: 'ava@example.com' });
    await system.publish(person);
    await waitFor('projection', () => system.service.ctx.prisma.personProjection.findUnique({ where: { id: person.data.personId } }));
    await system.publish(event('access.granted', tenantId, person.data.personId, { personId: person.data.personId, accountId: randomUUID(), roleKey: 'staff', actor: SYSTEM }));
    const failed = await waitFor('notification.failed', () => system.published.find((e) => e.type === 'notification.failed' && e.data.template === 'access_granted'));
    assert.match(failed.type === 'notification.failed' ? failed.data.reason : '', /cannot render.*gone/);
    assert.equal(smtp.received.filter((m) => m.to.includes('ava@example.com')).length, 0);
    const log = await request(system.service.url).get('/messages?status=failed&template=access_granted').set(owner());
    assert.equal(log.body.items.length, 1);
    assert.match(log.body.items[0].lastError, /gone/);
  });
});
