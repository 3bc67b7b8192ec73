// Issue 17 item 4, P8: the invitation link's page without a browser: each state of a link gets
// its own page, an existing person signs in on it and is added, a form without its CSRF token
// changes nothing, and the JSON accept keeps working beside it.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { startIdentity, type IdentityHarness } from './support/identity.js';
import { UserAgent } from './support/user-agent.js';

const SYSTEM = { kind: 'system' as const, personId: null, impersonatorId: null };

describe('identity: the invitation page (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  let accountId: string;
  beforeAll(async () => {
    h = await startIdentity();
    accountId = await h.account(tenantId, 'root', null, 'Curl Up & Dye');
  });
  afterAll(() => h?.stop());

  const invite = async (expiresInMs = 86_400_000) => {
    const token = randomBytes(32).toString('base64url');
    const invitationId = randomUUID();
    await h.deliver(createEvent('directory', {
      type: 'invitation.created', subject: invitationId, tenantId, correlationId: randomUUID(),
      data: {
        invitationId, accountId, roleKey: 'staff', channel: 'email',
        invitee: { firstName: 'Ivy', lastName: 'Invitee', email: `ivy-${randomUUID().slice(0, 6)}@example.com`, phone: null },
        token: { kid: 'k', alg: 'x', ciphertext: 'sealed' }, tokenHash: createHash('sha256').update(token).digest('hex'),
        expiresAt: new Date(Date.now() + expiresInMs).toISOString(), resend: false, actor: SYSTEM,
      },
    }));
    return { invitationId, token };
  };
  const title = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];

  it('withdrawn, expired and unknown links each get a page that says so; a valid one shows the tenant and role', async () => {
    const valid = await invite();
    const page = await new UserAgent().request(`${h.identity.url}/invitations/${valid.token}/accept`);
    assert.equal(page.status, 200);
    assert.equal(title(page.html), 'You are invited');
    assert.match(page.html, /Curl Up &amp; Dye/);
    assert.match(page.html, /Staff \(sitter, walker, cleaner, stylist\)/);
    assert.match(String(page.headers.get('content-security-policy')), /default-src 'none'/);

    const withdrawn = await invite();
    await h.deliver(createEvent('directory', { type: 'invitation.withdrawn', subject: withdrawn.invitationId, tenantId, correlationId: randomUUID(), data: { invitationId: withdrawn.invitationId, actor: SYSTEM } }));
    const expired = await invite(-1_000);
    for (const [token, status, expected] of [[withdrawn.token, 410, 'Invitation withdrawn'], [expired.token, 410, 'Invitation expired'], ['x'.repeat(43), 404, 'Invitation not found']] as const) {
      const r = await new UserAgent().request(`${h.identity.url}/invitations/${token}/accept`);
      assert.equal(r.status, status);
      assert.equal(title(r.html), expected);
    }
  });

  it('an existing person of the tenant signs in on the page and is added; without the CSRF token nothing happens', async () => {
    const owner = h.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] });
    const personId = await h.person({ tenantId, roleKey: 'staff', accountId });
    await h.loginWithPassword(tenantId, personId, `pat-${randomUUID().slice(0, 6)}`, 'Correct-horse-battery-7', owner);
    const username = (await h.identity.ctx.prisma.login.findFirstOrThrow({ where: { personId } })).username;
    const { invitationId, token } = await invite();
    const ua = new UserAgent();
    const page = await ua.request(`${h.identity.url}/invitations/${token}/accept`);
    const forged = await ua.request(`${h.identity.url}/invitations/${token}/accept`, { form: { intent: 'sign-in', username, password: 'Correct-horse-battery-7' } });
    assert.equal(forged.status, 403);
    assert.equal((await h.identity.ctx.prisma.invitationProjection.findUniqueOrThrow({ where: { id: invitationId } })).status, 'pending');

    const signInForm = { url: page.url, html: page.html.slice(page.html.indexOf('<h2>Already have a login')) };
    const joined = await ua.submit(signInForm, { username, password: 'Correct-horse-battery-7' });
    assert.equal(joined.status, 200);
    assert.equal(title(joined.html), 'You have joined');
    const accepted = await h.next('invitation.accepted', (e) => e.data.invitationId === invitationId);
    assert.equal(accepted.data.personId, personId);
    assert.equal(accepted.data.newPerson, false);
    const used = await new UserAgent().request(`${h.identity.url}/invitations/${token}/accept`);
    assert.equal(title(used.html), 'Invitation already used');
  });

  it('the JSON accept is unchanged beside the page', async () => {
    const { token } = await invite();
    const res = await h.call('POST', `/invitations/${token}/accept`, { firstName: 'Ivy', lastName: 'Invitee', phone: '+44 20 7946 0958', password: 'joining the team 42', acceptTerms: true, marketingConsent: false });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(res.type, /application\/json/);
  });
});
