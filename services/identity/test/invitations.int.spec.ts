// P8: accepting an invitation through identity: a new person registers (identity chooses the id
// and creates the login), an existing person proves their login; expired, withdrawn, accepted
// and unknown tokens get precise answers.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent, emailAddress } from '@roster/contracts';
import { startIdentity, type IdentityHarness } from './support/identity.js';

const SYSTEM = { kind: 'system' as const, personId: null, impersonatorId: null };

describe('identity: invitation acceptance (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  const accountId = randomUUID();

  beforeAll(async () => {
    h = await startIdentity();
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** An invitation as the directory announces it; returns its id and the link's token. */
  const invite = async (invitee: { email?: string | null; phone?: string | null }, expiresInMs = 86_400_000) => {
    const { event, ...invitation } = invitationCreated(invitee, expiresInMs);
    await h.deliver(event);
    return invitation;
  };
  const invitationCreated = (invitee: { email?: string | null; phone?: string | null }, expiresInMs = 86_400_000) => {
    const token = randomBytes(32).toString('base64url');
    const invitationId = randomUUID();
    const event = createEvent('directory', {
      type: 'invitation.created', subject: invitationId, tenantId, correlationId: randomUUID(),
      data: {
        invitationId, accountId, roleKey: 'staff', channel: invitee.email ? 'email' : 'sms',
        invitee: { firstName: 'Ivy', lastName: 'Invitee', email: invitee.email ?? null, phone: invitee.phone ?? null },
        token: { kid: 'k', alg: 'x', ciphertext: 'sealed' }, tokenHash: createHash('sha256').update(token).digest('hex'),
        expiresAt: new Date(Date.now() + expiresInMs).toISOString(), resend: false, actor: SYSTEM,
      },
    });
    return { invitationId, token, event };
  };
  const registration = { firstName: 'Ivy', lastName: 'Invitee', phone: '+44 20 7946 0958', password: 'joining the team 42', acceptTerms: true, marketingConsent: false };

  it('a new person registers: login created (username = e-mail), invitation.accepted with the registration; a second use is 409', async () => {
    const email = `ivy-${randomUUID().slice(0, 6)}@example.com`;
    const { invitationId, token } = await invite({ email });
    const res = await h.call('POST', `/invitations/${token}/accept`, registration);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.username, email);
    assert.equal(res.body.usernameFrom, 'email');
    assert.equal(res.body.newPerson, true);
    const event = await h.next('invitation.accepted', (e) => e.data.invitationId === invitationId);
    assert.equal(event.data.personId, res.body.personId);
    assert.equal(event.data.newPerson, true);
    assert.equal(event.data.registration?.email, email);
    assert.equal(event.data.registration?.marketingConsent, false);
    assert.ok(!JSON.stringify(event).includes(registration.password));
    // Issue 16 item 1: the new login is announced like any other (the directory shows it, notifications knows its username).
    const granted = await h.next('login.granted', (e) => e.data.personId === res.body.personId);
    assert.deepEqual([granted.data.username, granted.data.temporary, granted.data.delivery, granted.data.secret], [email, false, null, null]);
    assert.deepEqual(granted.data.actor, { kind: 'person', personId: res.body.personId, impersonatorId: null });

    assert.equal((await h.call('POST', `/invitations/${token}/accept`, registration)).status, 409);

    // Once the directory has created the person (user.created with identity's id), the login works.
    await h.deliver(createEvent('directory', {
      type: 'user.created', subject: res.body.personId, tenantId, correlationId: randomUUID(), subjectVersion: 1,
      data: { personId: res.body.personId, kind: 'staff', firstName: 'Ivy', lastName: 'Invitee', email, phone: registration.phone, accountId, roleKey: 'staff', actor: SYSTEM },
    }));
    const login = await h.call('POST', '/sessions', { username: email, password: registration.password });
    assert.equal(login.status, 201);
  });

  it('every address the directory accepts for an invitation can register with it as username (issue 15, rule 8): an apostrophe, 146 characters', async () => {
    const id = randomUUID().slice(0, 6);
    const long = `${'l'.repeat(60)}.${id}@${'d'.repeat(60)}.example.com`;
    assert.ok(long.length >= 140, `${long.length} characters`);
    for (const email of [`o'brien-${id}@example.com`, long]) {
      assert.ok(emailAddress.safeParse(email).success, `the directory accepts ${email}`);
      const { token } = await invite({ email });
      const res = await h.call('POST', `/invitations/${token}/accept`, registration);
      assert.equal(res.status, 201, `${email}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.username, email);
    }
  });

  it('no e-mail: the username is the phone number\'s digits', async () => {
    const phone = `+44 7400 ${Math.floor(100000 + Math.random() * 899999)}`;
    const { token } = await invite({ phone });
    const res = await h.call('POST', `/invitations/${token}/accept`, { ...registration, phone });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.usernameFrom, 'phone');
    assert.equal(res.body.username, phone.replace(/\D/g, ''));
  });

  it('an existing person proves their login and joins (newPerson false); a wrong password is 401', async () => {
    const personId = await h.person({ tenantId });
    const username = `exist-${personId.slice(0, 6)}`;
    await h.loginWithPassword(tenantId, personId, username, 'already here before', h.tokens.bearer({ tenantId, roles: ['admin'] }));
    const { invitationId, token } = await invite({ email: `${username}@example.com` });
    assert.equal((await h.call('POST', `/invitations/${token}/accept`, { username, password: 'not my password' })).status, 401);
    const res = await h.call('POST', `/invitations/${token}/accept`, { username, password: 'already here before' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const event = await h.next('invitation.accepted', (e) => e.data.invitationId === invitationId);
    assert.equal(event.data.personId, personId);
    assert.equal(event.data.newPerson, false);
    assert.equal(event.data.registration, null);
  });

  it('a link used before identity has applied its invitation (the SMS can be quicker than identity\'s consumer) waits for it: 201, not 404', async () => {
    const early = invitationCreated({ email: `early-${randomUUID().slice(0, 6)}@example.com` });
    const accepting = h.call('POST', `/invitations/${early.token}/accept`, registration);
    await new Promise((r) => setTimeout(r, 500));
    await h.deliver(early.event);
    const res = await accepting;
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.invitationId, early.invitationId);
  });

  it('expired and withdrawn invitations are 410, unknown tokens 404, terms not accepted 400; nothing is created', async () => {
    const logins = await h.identity.ctx.prisma.login.count();
    const expired = await invite({ email: 'late@example.com' }, -1000);
    const gone = await h.call('POST', `/invitations/${expired.token}/accept`, registration);
    assert.equal(gone.status, 410);
    assert.match(gone.body.detail, /expired/);

    const withdrawn = await invite({ email: 'withdrawn@example.com' });
    await h.deliver(createEvent('directory', {
      type: 'invitation.withdrawn', subject: withdrawn.invitationId, tenantId, correlationId: randomUUID(),
      data: { invitationId: withdrawn.invitationId, actor: SYSTEM },
    }));
    const w = await h.call('POST', `/invitations/${withdrawn.token}/accept`, registration);
    assert.equal(w.status, 410);
    assert.match(w.body.detail, /withdrawn/);

    const asked = Date.now();
    assert.equal((await h.call('POST', `/invitations/${randomBytes(32).toString('base64url')}/accept`, registration)).status, 404);
    assert.ok(Date.now() - asked >= h.identity.ctx.config.invitationLinkWaitMs - 50, 'an unknown token is unknown after the wait for its invitation');
    const pending = await invite({ email: 'terms@example.com' });
    const terms = await h.call('POST', `/invitations/${pending.token}/accept`, { ...registration, acceptTerms: false });
    assert.equal(terms.status, 400);
    assert.equal(await h.identity.ctx.prisma.login.count(), logins);
  });

  it('invitation.updated moves a pending invitation to another role; the acceptance carries it', async () => {
    const { invitationId, token } = await invite({ email: `upd-${randomUUID().slice(0, 6)}@example.com` });
    const otherAccount = randomUUID();
    await h.deliver(createEvent('directory', {
      type: 'invitation.updated', subject: invitationId, tenantId, correlationId: randomUUID(),
      data: { invitationId, accountId: otherAccount, roleKey: 'manager', expiresAt: new Date(Date.now() + 3_600_000).toISOString(), actor: SYSTEM },
    }));
    const res = await h.call('POST', `/invitations/${token}/accept`, registration);
    assert.equal(res.status, 201);
    assert.equal(res.body.roleKey, 'manager');
    assert.equal(res.body.accountId, otherAccount);
  });
});
