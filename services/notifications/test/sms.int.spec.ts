import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import type { EventOf } from '@roster/contracts';
import { signCallback } from '../src/http/callbacks.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmsStandIn, type SmsStandIn } from './support/sms-provider.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, startNotifications, SYSTEM, type NotificationsSystem } from './support/system.js';

const SECRET = 'callback-secret-0123456789';

// P8, N1, B6: invitations by SMS and e-mail with the link, SMS provider failover, status callbacks.
describe('invitations, SMS and provider callbacks (P8, N1, B6; Postgres, real SMTP, SMS stand-in)', () => {
  let smtp: TestSmtpServer;
  let down: SmsStandIn;
  let acme: SmsStandIn;
  let system: NotificationsSystem;
  const tenantId = randomUUID();
  const accountId = randomUUID();

  beforeAll(async () => {
    smtp = await startSmtpServer();
    down = await startSmsStandIn();
    down.failWith = 503;
    acme = await startSmsStandIn();
    system = await startNotifications({
      SMTP_URL: smtp.url, SMS_PROVIDER_URL: `${down.url('u', 'p', 'down')},${acme.url('AC123', 'tok en', 'acme')}`,
      SMS_CALLBACK_SECRET: SECRET, PUBLIC_URL: 'https://roster.example.org/',
    });
    await system.publish(event('account.created', tenantId, accountId, { accountId, name: 'Northside Walkers', kind: 'branch', parentId: null, actor: SYSTEM }));
    await waitFor('the account', () => system.service.ctx.prisma.accountProjection.findUnique({ where: { id: accountId } }));
  });
  afterAll(async () => {
    await system?.stop();
    await Promise.all([smtp?.close(), down?.close(), acme?.close()]);
  });

  const invitation = (channel: 'sms' | 'email', token: string, invitee: Partial<EventOf<'invitation.created'>['data']['invitee']>) => {
    const invitationId = randomUUID();
    return event('invitation.created', tenantId, invitationId, {
      invitationId, accountId, roleKey: 'staff', channel, token: system.seal(token),
      invitee: { firstName: 'Ivy', lastName: 'Invitee', email: null, phone: null, ...invitee },
      expiresAt: '2026-12-10T00:00:00.000Z', resend: false, actor: SYSTEM,
    });
  };
  const callback = (body: unknown, signature?: string) => {
    const r = request(system.service.url).post('/callbacks/sms/acme').set('content-type', 'application/json');
    if (signature !== undefined) r.set('x-roster-signature', signature);
    return r.send(typeof body === 'string' ? body : JSON.stringify(body));
  };

  it('an SMS invitation carries the acceptance link; the first provider fails (503) and the second delivers it', async () => {
    const created = invitation('sms', 'tok-abc/123', { phone: '+44 20 7946 0958' });
    await system.publish(created, created);
    const sms = await waitFor('the SMS', () => acme.received.find((m) => m.to === '+442079460958'));
    assert.equal(sms.body, 'Hi Ivy, you are invited to Northside Walkers: https://roster.example.org/invitations/tok-abc%2F123/accept');
    assert.equal(sms.authorization, `Basic ${Buffer.from('AC123:tok en').toString('base64')}`);
    const row = await waitFor('sent', () => system.service.ctx.prisma.message.findFirst({ where: { toAddress: '+442079460958', status: 'sent' } }));
    assert.equal(row.provider, 'sms:acme');
    assert.equal(row.providerMessageId, sms.sid);
    assert.equal(row.sealedSecret, null);
    assert.equal(acme.received.filter((m) => m.to === '+442079460958').length, 1, 'one SMS for a doubly delivered event');
    const step = await waitFor('the step', () => system.published.find((e) => e.type === 'cascade.step.completed' && e.data.causeEventId === created.id));
    assert.equal(step.type === 'cascade.step.completed' && step.data.step, 'send_invitation');
  });

  it('an e-mail invitation carries the link too', async () => {
    await system.publish(invitation('email', 'mail-token-77', { email: 'ivy@example.com' }));
    const mail = await waitFor('the e-mail', () => smtp.received.find((m) => m.to.includes('ivy@example.com')));
    assert.equal(mail.subject, "You're invited to Northside Walkers");
    assert.match(mail.text, /Accept here: https:\/\/roster\.example\.org\/invitations\/mail-token-77\/accept/);
  });

  it('an invalid phone number is a failed message with the reason, never sent', async () => {
    const created = invitation('sms', 'never-sent', { phone: '12' });
    await system.publish(created);
    const failed = await waitFor('notification.failed', () => system.published.find((e) => e.type === 'notification.failed' && e.correlationid === created.correlationid));
    assert.match(failed.type === 'notification.failed' ? failed.data.reason : '', /invalid phone number/);
    assert.equal(acme.received.some((m) => m.body.includes('never-sent')), false);
  });

  it('status callbacks: unsigned or badly signed 401, unknown message 404, nothing changed; a signed one updates the log', async () => {
    const [sms] = acme.received;
    const delivered = { messageId: sms!.sid, status: 'delivered' };
    assert.equal((await callback(delivered)).status, 401);
    assert.equal((await callback(delivered, signCallback('another-secret-0000000', delivered))).status, 401);
    assert.equal((await callback({ ...delivered, status: 'failed' }, signCallback(SECRET, delivered))).status, 401, 'a signature of another body');
    const unknown = { messageId: 'SMnope', status: 'delivered' };
    const res404 = await callback(unknown, signCallback(SECRET, unknown));
    assert.equal(res404.status, 404);
    assert.equal(res404.type, 'application/problem+json');
    let row = await system.service.ctx.prisma.message.findFirstOrThrow({ where: { providerMessageId: sms!.sid } });
    assert.equal(row.deliveryStatus, null);

    // The signature covers the bytes as sent: pretty-printed JSON passes with its own signature,
    // not with the signature of its compact form.
    const pretty = JSON.stringify(delivered, null, 2);
    assert.equal((await callback(pretty, signCallback(SECRET, delivered))).status, 401);
    const ok = await callback(pretty, signCallback(SECRET, pretty));
    assert.equal(ok.status, 200);
    row = await system.service.ctx.prisma.message.findFirstOrThrow({ where: { providerMessageId: sms!.sid } });
    assert.equal(row.deliveryStatus, 'delivered');
    assert.equal(row.status, 'sent');
    const log = await request(system.service.url).get('/messages?to=+44 20 7946 0958').set(system.tokens.bearer({ tenantId, roles: ['owner'] }));
    assert.equal(log.body.items[0].deliveryStatus, 'delivered');
    assert.deepEqual(log.body.items[0].providerAttempts.map((a: { provider: string; outcome: string }) => `${a.provider} ${a.outcome}`),
      ['sms:down transient_failure', 'sms:acme sent', 'sms:acme callback_delivered']);
  });

  it('a provider reporting the SMS undelivered marks it failed and publishes notification.failed', async () => {
    const created = invitation('sms', 'tok-2', { phone: '+44 20 7946 0123' });
    await system.publish(created);
    const sms = await waitFor('the SMS', () => acme.received.find((m) => m.to === '+442079460123'));
    await waitFor('sent', () => system.service.ctx.prisma.message.findFirst({ where: { toAddress: '+442079460123', status: 'sent' } }));
    const body = { MessageSid: sms.sid, MessageStatus: 'undelivered', ErrorCode: 30003 };
    assert.equal((await callback(body, signCallback(SECRET, body))).status, 200);
    const failed = await waitFor('notification.failed', () => system.published.find((e) => e.type === 'notification.failed' && e.correlationid === created.correlationid));
    assert.match(failed.type === 'notification.failed' ? failed.data.reason : '', /30003/);
  });
});
