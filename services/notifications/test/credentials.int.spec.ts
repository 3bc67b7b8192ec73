import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { event, startNotifications, SYSTEM, userCreated, type NotificationsSystem } from './support/system.js';

// L4, L5, N1, N3, rule 5: credentials and new passwords reach the person once, by real SMTP, and the
// password exists in clear only in the delivered e-mail.
describe('credentials messages (L4, L5, N1, rule 5; Postgres + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let system: NotificationsSystem;
  const tenantId = randomUUID();

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startNotifications({ SMTP_URL: smtp.url, MAIL_FROM: 'Acme Sitters <hello@acme.test>', PUBLIC_URL: 'https://app.acme.test' });
  });
  afterAll(async () => {
    await system?.stop();
    await smtp?.close();
  });

  const projected = (personId: string) =>
    waitFor('the person projected', () => system.service.ctx.prisma.personProjection.findUnique({ where: { id: personId } }));
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));

  it('login.granted delivered three times sends one credentials e-mail with the password, and records one send_credentials step', async () => {
    const person = userCreated(tenantId, { kind: 'client', firstName: 'Clara', email: 'clara@example.com', roleKey: null });
    await system.publish(person);
    await projected(person.data.personId);
    const granted = event('login.granted', tenantId, person.data.personId, {
      personId: person.data.personId, username: 'clara.c', temporary: true, expiresAt: '2026-12-03T10:00:00.000Z',
      delivery: { channel: 'email', template: 'client_login_credentials', to: 'clara@example.com' },
      secret: system.seal('Tmp-pass-9431!'), actor: SYSTEM,
    });
    await system.publish(granted);
    await Promise.all([system.publish(granted), system.publish(granted)]);

    const [mail] = await waitFor('the credentials e-mail', () => (mailsTo('clara@example.com').length > 0 ? mailsTo('clara@example.com') : null));
    await sleep(700);
    assert.equal(mailsTo('clara@example.com').length, 1, 'one e-mail however often the event came');
    assert.equal(mail!.subject, 'Your login');
    assert.match(mail!.headers.from ?? '', /hello@acme\.test/);
    assert.match(mail!.text, /Hello Clara/);
    assert.match(mail!.text, /Username: clara\.c/);
    assert.match(mail!.text, /Password: Tmp-pass-9431!/);
    assert.match(mail!.text, /https:\/\/app\.acme\.test\/account/, 'the link leads to the page where the password is chosen (issue 17)');
    // Text and HTML (issue 17 item 4): the HTML has the link as a button, the same words, escaped.
    assert.match(mail!.headers['content-type'] ?? '', /multipart\/alternative/);
    assert.match(mail!.html ?? '', /<a href="https:\/\/app\.acme\.test\/account" style="[^"]*background[^"]*">Choose your password<\/a>/);
    assert.match(mail!.html ?? '', /Username: clara\.c/);

    const steps = system.published.filter((e) => e.type === 'cascade.step.completed' && e.data.causeEventId === granted.id);
    assert.equal(steps.length, 1);
    assert.equal(steps[0]!.type === 'cascade.step.completed' && steps[0]!.data.step, 'send_credentials');
    assert.deepEqual(steps[0]!.type === 'cascade.step.completed' && steps[0]!.data.counts, { messages: 1 });
    await waitFor('notification.sent', () => system.published.some((e) => e.type === 'notification.sent'));
  });

  it('keeps no password anywhere once sent: not in the message row, not in the delivery log, not in an event', async () => {
    const rows = await system.service.ctx.prisma.message.findMany({ where: { tenantId, template: 'client_login_credentials' } });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'sent');
    assert.equal(rows[0]!.sealedSecret, null, 'the sealed secret is dropped once sent');
    assert.doesNotMatch(JSON.stringify(rows), /Tmp-pass-9431/);

    const res = await request(system.service.url).get('/messages?template=client_login_credentials')
      .set(system.tokens.bearer({ tenantId, roles: ['owner'] }));
    assert.equal(res.status, 200);
    assert.equal(res.body.items.length, 1);
    const [logged] = res.body.items;
    assert.equal(logged.status, 'sent');
    assert.equal(logged.to, 'clara@example.com');
    assert.equal(logged.providerAttempts[0].outcome, 'sent');
    assert.match(logged.providerAttempts[0].provider, /^smtp:127\.0\.0\.1:/);
    assert.doesNotMatch(JSON.stringify(res.body), /Tmp-pass-9431/);
    assert.doesNotMatch(JSON.stringify(system.published), /Tmp-pass-9431/);
  });

  it('password.reset (new_password) sends the new password naming the login; an archive reset sends nothing', async () => {
    const person = userCreated(tenantId, { firstName: 'Nora', email: 'nora@example.com' });
    await system.publish(person);
    const personId = person.data.personId;
    await projected(personId);
    await system.publish(event('login.granted', tenantId, personId, {
      personId, username: 'nora.n', temporary: false, expiresAt: null, delivery: null, secret: null, actor: SYSTEM,
    }));
    const reset = event('password.reset', tenantId, personId, {
      personId, reason: 'new_password', temporary: true, expiresAt: '2026-12-04T10:00:00.000Z',
      delivery: { channel: 'email', template: 'new_password', to: 'nora@example.com' }, secret: system.seal('Fresh-7781'), actor: SYSTEM,
    });
    const archived = event('password.reset', tenantId, personId, {
      personId, reason: 'archived', temporary: false, expiresAt: null, delivery: null, secret: null, actor: SYSTEM,
    });
    await system.publish(reset, reset, archived);
    const [mail] = await waitFor('the new password e-mail', () => (mailsTo('nora@example.com').length > 0 ? mailsTo('nora@example.com') : null));
    assert.equal(mail!.subject, 'Your new password');
    assert.match(mail!.text, /nora\.n: Fresh-7781/);
    await waitFor('two steps', () => system.published.filter((e) => e.type === 'cascade.step.completed' && e.data.service === 'notifications' && [reset.id, archived.id].includes(e.data.causeEventId)).length === 2);
    await sleep(500);
    assert.equal(mailsTo('nora@example.com').length, 1);
  });

  it('issue 16 item 2: a new password names the login from the event, also for a login this service never saw granted; with no username anywhere, no e-mail goes out', async () => {
    // An invitee's login is created at acceptance; the password.reset (version 2) carries its username.
    const person = userCreated(tenantId, { firstName: 'Ines', email: 'ines@example.com' });
    await system.publish(person);
    const personId = person.data.personId;
    await projected(personId);
    const reset = event('password.reset', tenantId, personId, {
      personId, username: 'ines@example.com', reason: 'new_password', temporary: true, expiresAt: null,
      delivery: { channel: 'email', template: 'new_password', to: 'ines@example.com' }, secret: system.seal('Fresh-9911'), actor: SYSTEM,
    });
    await system.publish(reset);
    const [mail] = await waitFor('the new password e-mail', () => (mailsTo('ines@example.com').length > 0 ? mailsTo('ines@example.com') : null));
    assert.match(mail!.text, /generated for ines@example\.com: Fresh-9911/);

    // A version-1 event about a login nobody announced: nothing can name it, so the message fails instead of reading "for : …".
    const other = userCreated(tenantId, { firstName: 'Otto', email: 'otto@example.com' });
    await system.publish(other);
    await projected(other.data.personId);
    const old = event('password.reset', tenantId, other.data.personId, {
      personId: other.data.personId, reason: 'new_password', temporary: true, expiresAt: null,
      delivery: { channel: 'email', template: 'new_password', to: 'otto@example.com' }, secret: system.seal('Fresh-0000'), actor: SYSTEM,
    });
    await system.publish(old);
    const row = await waitFor('the message to fail', async () => {
      const m = await system.service.ctx.prisma.message.findFirst({ where: { tenantId, causeEventId: old.id } });
      return m?.status === 'failed' ? m : null;
    });
    assert.match(row.lastError ?? '', /username/);
    assert.equal(mailsTo('otto@example.com').length, 0);
  });

  it('an invalid address is logged as a failed message with its reason (notification.failed), never sent', async () => {
    const personId = randomUUID();
    const granted = event('login.granted', tenantId, personId, {
      personId, username: 'bad.address', temporary: true, expiresAt: null,
      delivery: { channel: 'email', template: 'staff_login_credentials', to: 'not-an-address' }, secret: system.seal('Nope-1234'), actor: SYSTEM,
    });
    await system.publish(granted);
    const failed = await waitFor('notification.failed', () => system.published.find((e) => e.type === 'notification.failed' && e.data.template === 'staff_login_credentials'));
    assert.equal(failed.type === 'notification.failed' && failed.data.reason, 'invalid e-mail address');
    const row = await system.service.ctx.prisma.message.findFirstOrThrow({ where: { tenantId, causeEventId: granted.id } });
    assert.equal(row.status, 'failed');
    assert.equal(row.sealedSecret, null);
    assert.equal(smtp.received.filter((m) => m.to.includes('not-an-address')).length, 0);
  });
  it('issue 19: a burst of credentials events is queued set-based: each event once, its own step and counts; an invalid address fails alone, caused by its own event', async () => {
    const people = Array.from({ length: 12 }, (_, i) => userCreated(tenantId, { kind: 'staff', firstName: `Burst${i}`, email: `burst${i}@example.com` }));
    await system.publish(...people);
    for (const p of people) await projected(p.data.personId);
    const granted = people.map((p, i) => event('login.granted', tenantId, p.data.personId, {
      personId: p.data.personId, username: `burst.${i}`, temporary: true, expiresAt: '2026-12-03T10:00:00.000Z',
      // #3: an address that cannot be one; #5: sent elsewhere (the address on file is told too).
      delivery: { channel: 'email', template: 'staff_login_credentials', to: i === 3 ? 'not an address' : i === 5 ? 'elsewhere5@example.com' : `burst${i}@example.com` },
      secret: system.seal(`Tmp-burst-${i}!`), actor: SYSTEM,
    }));
    await system.publish(...granted, granted[0]!, granted[7]!);
    const steps = await waitFor('twelve steps', () => {
      const s = system.published.filter((e) => e.type === 'cascade.step.completed' && granted.some((g) => g.id === e.data.causeEventId));
      return s.length >= 12 ? s : null;
    });
    await sleep(300);
    const countsOf = (i: number) => steps.filter((e) => e.type === 'cascade.step.completed' && e.data.causeEventId === granted[i]!.id).map((e) => e.type === 'cascade.step.completed' && e.data.counts);
    assert.deepEqual(countsOf(0), [{ messages: 1 }], 'one step however often delivered');
    assert.deepEqual(countsOf(3), [{ messages: 1, invalidAddresses: 1 }], 'the invalid address fails; the address on file is told');
    assert.deepEqual(countsOf(5), [{ messages: 2 }], 'the credentials and the notice at the address on file');
    const failed = system.published.filter((e) => e.type === 'notification.failed' && e.causationid === granted[3]!.id);
    assert.equal(failed.length, 1, 'the failure is caused by its own event, not by the first of the batch');
    await waitFor('the e-mails', () => (mailsTo('burst11@example.com').length === 1 && mailsTo('burst5@example.com').length === 1 ? true : null));
    assert.equal(mailsTo('burst0@example.com').length, 1);
    assert.match(mailsTo('elsewhere5@example.com')[0]?.text ?? '', /Username: burst\.5/);
  });

  it('issue 19, Kafka order: credentials handled before their person go at once (no name to greet), and once the person is known the address on file is told they went elsewhere', async () => {
    const elsewhere = userCreated(tenantId, { kind: 'staff', firstName: 'Ivo', email: 'ivo@example.com' });
    const onFile = userCreated(tenantId, { kind: 'staff', firstName: 'Jana', email: 'jana@example.com' });
    const grant = (person: typeof elsewhere, to: string, username: string) => event('login.granted', tenantId, person.data.personId, {
      personId: person.data.personId, username, temporary: true, expiresAt: '2026-12-03T10:00:00.000Z',
      delivery: { channel: 'email', template: 'staff_login_credentials', to }, secret: system.seal(`Tmp-${username}!`), actor: SYSTEM,
    });
    const granted = [grant(elsewhere, 'someone-else@example.com', 'ivo.i'), grant(onFile, 'jana@example.com', 'jana.j')];
    await system.publish(...granted);

    const [mail] = await waitFor('the credentials, before the person is known', () => (mailsTo('someone-else@example.com').length > 0 ? mailsTo('someone-else@example.com') : null));
    assert.match(mail!.text, /^Hello,\n/, 'no empty name in the greeting');
    assert.match(mail!.text, /Password: Tmp-ivo\.i!/);
    await waitFor('the second credentials', () => mailsTo('jana@example.com').length === 1 || null);
    // They wait for their people, without the sealed password (rule 5: it is the message row's alone).
    const waiting = await system.service.ctx.prisma.eventAwaitingPerson.findMany({ where: { eventId: { in: granted.map((g) => g.id) } } });
    assert.equal(waiting.length, 2);
    for (const row of waiting) assert.equal((row.event as { data: Record<string, unknown> }).data['secret'], undefined);
    await sleep(300);
    assert.equal(mailsTo('ivo@example.com').length, 0, 'the address on file is not known yet');

    await system.publish(elsewhere, onFile);
    const [notice] = await waitFor('the notice at the address on file', () => (mailsTo('ivo@example.com').length > 0 ? mailsTo('ivo@example.com') : null));
    assert.equal(notice!.subject, 'Login details for your account were sent elsewhere');
    assert.match(notice!.text, /Hello Ivo,/);
    assert.match(notice!.text, /ivo\.i were just sent to someone-else@example\.com/);
    await waitFor('nothing left waiting', async () => (await system.service.ctx.prisma.eventAwaitingPerson.count({ where: { eventId: { in: granted.map((g) => g.id) } } })) === 0 || null);
    await sleep(300);
    assert.equal(mailsTo('jana@example.com').length, 1, 'credentials sent to the address on file need no notice');
    assert.equal(mailsTo('ivo@example.com').length, 1);
  });
});
