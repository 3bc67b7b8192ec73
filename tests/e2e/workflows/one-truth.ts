// Issue 16: where one service reports on another's work, it tells the truth. Driven only through the
// public HTTP APIs and the SMTP server, the same on every transport.
import assert from 'node:assert/strict';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { NEW_PASSWORD, temporaryPasswordIn, type Roster } from './client.js';

const loginShown = async (roster: Roster, owner: string, personId: string, expected: { hasLogin: boolean; loginEnabled: boolean }, why: string) =>
  waitFor(`the directory to show ${JSON.stringify(expected)} ${why}`, async () => {
    const p = await roster.expect(200, 'directory', 'GET', `/people/${personId}`, { token: owner });
    return p.hasLogin === expected.hasLogin && p.loginEnabled === expected.loginEnabled ? p : null;
  });

/**
 * Items 1 and 2: an invitee's login, and every later switch of it, reaches the directory; the
 * new-password e-mail names the username; item 8: a phone number no service could text is refused
 * where it is entered, not later by notifications.
 */
export async function loginTruthWorkflow(roster: Roster): Promise<void> {
  const { rootAccountId, owner } = await roster.tenantWithOwner('True Paws', 'olive@truepaws.example');
  const email = 'ivy@truepaws.example';

  // Item 8: the directory refuses what notifications could not deliver, and creates nothing.
  const refused = await roster.call('directory', 'POST', '/invitations', {
    token: owner, body: { accountId: rootAccountId, roleKey: 'staff', invitees: [{ firstName: 'Nobody', lastName: 'Home', phone: '+15557654321' }] },
  });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.match(JSON.stringify(refused.body), /phone/);
  assert.equal((await roster.expect(200, 'directory', 'GET', '/invitations?status=pending', { token: owner })).items.length, 0);

  // Item 1: invited by e-mail, the person registers and signs in; the directory shows the login.
  await roster.expect(201, 'directory', 'POST', '/invitations', {
    token: owner, body: { accountId: rootAccountId, roleKey: 'staff', invitees: [{ firstName: 'Ivy', lastName: 'Invitee', email }] },
  });
  const invitation = await roster.mailbox.waitFor(email, /invit/i);
  const link = /invitations\/([A-Za-z0-9_-]{20,})\/accept/.exec(invitation.text)?.[1];
  assert.ok(link, invitation.text);
  const registered = await waitFor('identity to know the invitation', async () => {
    const r = await roster.call('identity', 'POST', `/invitations/${link}/accept`, {
      body: { firstName: 'Ivy', lastName: 'Invitee', phone: '+44 20 7946 0123', password: NEW_PASSWORD, acceptTerms: true, marketingConsent: false },
    });
    return r.status === 201 ? r.body : null;
  });
  const personId = registered.personId as string;
  await waitFor('the invitee to sign in', async () => (await roster.call('identity', 'POST', '/sessions', { body: { username: email, password: NEW_PASSWORD } })).status === 201 || null);
  await loginShown(roster, owner, personId, { hasLogin: true, loginEnabled: true }, 'after the invitee signed in');

  // A deactivation switches the login off in identity; the directory says so, and keeps saying so after a reactivation.
  await roster.cascade(`/people/${personId}/deactivate`, owner);
  await loginShown(roster, owner, personId, { hasLogin: true, loginEnabled: false }, 'after a deactivation');
  await roster.cascade(`/people/${personId}/reactivate`, owner);
  await roster.expect(200, 'identity', 'PATCH', `/logins/${personId}`, { token: owner, body: { enabled: true } });
  await loginShown(roster, owner, personId, { hasLogin: true, loginEnabled: true }, 'after the login was switched on again');

  // Archive → restore → new password: the e-mail names the username, the login works, the directory agrees.
  await roster.cascade(`/people/${personId}/archive`, owner);
  await roster.cascade(`/people/${personId}/restore`, owner);
  await roster.expect(200, 'identity', 'POST', `/logins/${personId}/new-password`, { token: owner, body: {} });
  const mail = await roster.mailbox.waitFor(email, /new password/i);
  assert.match(mail.text, new RegExp(`generated for ${email.replace(/\./g, '\\.')}: `), mail.text);
  const session = await roster.login(email, temporaryPasswordIn(mail.text));
  assert.equal(session.passwordChangeRequired, true);
  await loginShown(roster, owner, personId, { hasLogin: true, loginEnabled: true }, 'after archive, restore and a new password');
}
