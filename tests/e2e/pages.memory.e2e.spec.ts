import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { MemoryBus } from '@roster/platform/bus/index';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { startSystem, type System } from './support/system.js';
import { Roster, temporaryPasswordIn } from './workflows/client.js';
import { startMailbox, type Mailbox } from './workflows/mailbox.js';
import { launchChromium, withScreenshots } from './pages/browser.js';
import { startWebApplication } from './pages/application.js';

// Issue 17 item 4: the people's path through identity's hosted pages in a real browser (Debian's
// chromium, JavaScript off: the pages must work without it): the credentials e-mail → the
// application → Roster's sign-in page → the temporary password → choosing one's own → back in
// the application, signed in.
describe('hosted pages in a real browser (issue 17; chromium, memory bus)', () => {
  let system: System;
  let mailbox: Mailbox;
  let roster: Roster;
  let browser: Browser;
  beforeAll(async () => {
    mailbox = await startMailbox();
    system = await startSystem({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'postgres', env: { SMTP_URL: mailbox.url } });
    roster = new Roster(system, mailbox);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await mailbox?.close();
  });

  it('first sign-in: credentials e-mail → application → sign-in page → temporary password → own password → signed in to the application', async () => {
    const { rootAccountId, owner } = await roster.tenantWithOwner('Happy Paws', 'olive@happypaws-pages.example');
    const sitterId = await roster.person(owner, { kind: 'staff', firstName: 'Sam', lastName: 'Whiskers', email: 'sam@happypaws-pages.example', accountId: rootAccountId, roleKey: 'staff' });
    await waitFor('identity to know the sitter', async () => (await roster.call('identity', 'POST', '/logins', { token: owner, body: { personId: sitterId, username: 'sam.whiskers' } })).status === 201 || null);
    const mail = await mailbox.waitFor('sam@happypaws-pages.example', /login/i);
    const temporary = temporaryPasswordIn(mail.text);

    const issuer = system.envOf('identity').PUBLIC_URL!;
    const app = await startWebApplication(issuer, async (redirectUri, postLogoutRedirectUri) =>
      roster.expect(201, 'identity', 'POST', '/oauth/clients', { token: owner, body: { name: 'Walk planner', redirectUris: [redirectUri], postLogoutRedirectUris: [postLogoutRedirectUri], public: false } }));
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    try {
      await withScreenshots(page, 'first-sign-in', async () => {
        await page.goto(`${app.base}/login`);
        assert.ok(page.url().startsWith(`${issuer}/signin/`), page.url());
        assert.equal(await page.title(), 'Sign in');
        assert.match(await page.locator('main').innerText(), /Happy Paws/);
        assert.match(await page.locator('main').innerText(), /Walk planner/);
        // Accessible labels: each field is reachable by its label.
        await page.getByLabel('Username').fill('sam.whiskers');
        await page.getByLabel('Password').fill('not-the-password-1');
        await page.getByRole('button', { name: 'Sign in' }).click();
        assert.match(await page.getByRole('alert').innerText(), /The username or the password is wrong/);
        await page.getByLabel('Password').fill(temporary);
        await page.getByRole('button', { name: 'Sign in' }).click();

        assert.equal(await page.title(), 'Choose your password');
        // Too short: the browser itself refuses (minlength), no round trip. Two that differ: identity says so.
        await page.getByLabel('New password').fill('short');
        await page.getByLabel('Repeat it').fill('short');
        await page.getByRole('button', { name: 'Save and continue' }).click();
        assert.equal(await page.locator('#newPassword').evaluate((e) => (e as unknown as { validity: { tooShort: boolean } }).validity.tooShort), true);
        await page.getByLabel('New password').fill('Correct-horse-battery-7');
        await page.getByLabel('Repeat it').fill('Correct-horse-battery-8');
        await page.getByRole('button', { name: 'Save and continue' }).click();
        assert.equal(await page.title(), 'Choose your password');
        assert.match(await page.getByRole('alert').innerText(), /differ/);
        await page.getByLabel('New password').fill('Correct-horse-battery-7');
        await page.getByLabel('Repeat it').fill('Correct-horse-battery-7');
        await page.getByRole('button', { name: 'Save and continue' }).click();

        assert.ok(page.url().startsWith(`${app.base}/cb`), page.url());
        assert.equal(await page.locator('h1').innerText(), 'Hello Sam Whiskers');
        assert.equal(await page.locator('#sub').innerText(), sitterId);

        // Sign out from the application: Roster's confirmation page, then back to the application.
        await page.goto(`${app.base}/logout`);
        assert.equal(await page.title(), 'Sign out');
        await page.getByRole('button', { name: 'Sign out' }).click();
        assert.equal(await page.locator('h1').innerText(), 'Goodbye');
        assert.ok(page.url().startsWith(`${app.base}/bye`), page.url());

        // The application's client with a redirect_uri it never registered: Roster's error page, no redirect.
        const evil = new URL(`${issuer}/oauth2/authorize`);
        for (const [k, v] of Object.entries({ client_id: app.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/cb' })) evil.searchParams.set(k, v);
        await page.goto(evil.href);
        assert.equal(await page.title(), 'Something went wrong');
        assert.ok(page.url().startsWith(issuer), page.url());
      });
    } finally {
      await context.close();
      await app.close();
    }
    assert.deepEqual(blocked, [], 'nothing on the pages was blocked by their own Content-Security-Policy');
    // The new password works for the JSON API too; the temporary one no longer does.
    await roster.login('sam.whiskers', 'Correct-horse-battery-7');
    assert.equal((await roster.call('identity', 'POST', '/sessions', { body: { username: 'sam.whiskers', password: temporary } })).status, 401);
  });

  it('invitation: the e-mail link opens a registration page; the new person learns their username and signs in to the application; the used link says so', async () => {
    const { rootAccountId, owner } = await roster.tenantWithOwner('Curl Up', 'olive@curlup-pages.example');
    await roster.expect(201, 'directory', 'POST', '/invitations', {
      token: owner, body: { accountId: rootAccountId, roleKey: 'staff', invitees: [{ firstName: 'Eve', lastName: 'Mail', email: 'eve@curlup-pages.example' }] },
    });
    const mail = await mailbox.waitFor('eve@curlup-pages.example', /invit/i);
    const link = /(https?:\/\/\S+\/invitations\/[A-Za-z0-9_-]+\/accept)/.exec(mail.text)?.[1];
    const issuer = system.envOf('identity').PUBLIC_URL!;
    assert.ok(link?.startsWith(`${issuer}/invitations/`), `the link leads to identity's page: ${mail.text}`);
    const app = await startWebApplication(issuer, async (redirectUri) =>
      roster.expect(201, 'identity', 'POST', '/oauth/clients', { token: owner, body: { name: 'Salon diary', redirectUris: [redirectUri], public: false } }));
    // A phone's screen: the page fits its width (no sideways scrolling).
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    try {
      await withScreenshots(page, 'invitation', async () => {
        await page.goto(`${issuer}/invitations/${'x'.repeat(40)}/accept`);
        assert.equal(await page.title(), 'Invitation not found');

        await page.goto(link!);
        assert.equal(await page.title(), 'You are invited');
        assert.ok(await page.locator('html').evaluate((e) => e.scrollWidth <= 390), 'fits a 390 px wide phone');
        assert.match(await page.locator('main').innerText(), /Curl Up/);
        assert.equal(await page.getByLabel('First name').inputValue(), 'Eve', 'the invitation\'s names are filled in');
        await page.getByLabel('Mobile phone').fill('12345');
        await page.getByLabel('Choose a password').fill('Correct-horse-battery-7');
        await page.getByLabel('I accept the terms of use').check();
        await page.getByRole('button', { name: 'Register' }).click();
        assert.match(await page.getByRole('alert').innerText(), /international form/);
        await page.getByLabel('Mobile phone').fill('+44 7911 123456');
        await page.getByLabel('Choose a password').fill('Correct-horse-battery-7');
        await page.getByLabel('I accept the terms of use').check();
        await page.getByLabel('No').check();
        await page.getByRole('button', { name: 'Register' }).click();
        assert.equal(await page.title(), 'Welcome');
        const username = await page.locator('#username').innerText();
        assert.equal(username, 'eve@curlup-pages.example', 'the username is the invited e-mail address');

        await page.goto(link!);
        assert.equal(await page.title(), 'Invitation already used');

        // Once the directory has made the person (invitation.accepted → user.created), Eve signs in to the application.
        await waitFor('identity to know Eve', async () => (await roster.call('identity', 'POST', '/sessions', { body: { username, password: 'Correct-horse-battery-7' } })).status === 201 || null);
        await page.goto(`${app.base}/login`);
        await page.getByLabel('Username').fill(username);
        await page.getByLabel('Password').fill('Correct-horse-battery-7');
        await page.getByRole('button', { name: 'Sign in' }).click();
        assert.equal(await page.locator('h1').innerText(), 'Hello Eve Mail');
      });
    } finally {
      await context.close();
      await app.close();
    }
  });

  it('new password (L5): the e-mail\'s link opens Roster\'s own page; the temporary password leads to choosing one\'s own, and it works', async () => {
    const { rootAccountId, owner } = await roster.tenantWithOwner('Sparkle', 'olive@sparkle-pages.example');
    const cleanerId = await roster.person(owner, { kind: 'staff', firstName: 'Cleo', lastName: 'Mop', email: 'cleo@sparkle-pages.example', accountId: rootAccountId, roleKey: 'staff' });
    await waitFor('identity to know the cleaner', async () => (await roster.call('identity', 'POST', '/logins', { token: owner, body: { personId: cleanerId, username: 'cleo.mop' } })).status === 201 || null);
    await mailbox.waitFor('cleo@sparkle-pages.example', /login/i);
    await roster.expect(200, 'identity', 'POST', `/logins/${cleanerId}/new-password`, { token: owner, body: {} });
    const mail = await mailbox.waitFor('cleo@sparkle-pages.example', /new password/i);
    const link = /(https?:\/\/\S+\/account)\b/.exec(mail.text)?.[1];
    const issuer = system.envOf('identity').PUBLIC_URL!;
    assert.equal(link, `${issuer}/account`, mail.text);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await withScreenshots(page, 'new-password', async () => {
        await page.goto(link!);
        assert.equal(await page.title(), 'Sign in to Roster');
        await page.getByLabel('Username').fill('cleo.mop');
        await page.getByLabel('Password').fill(temporaryPasswordIn(mail.text));
        await page.getByRole('button', { name: 'Sign in' }).click();
        assert.equal(await page.title(), 'Choose your password');
        await page.getByLabel('New password').fill('Correct-horse-battery-9');
        await page.getByLabel('Repeat it').fill('Correct-horse-battery-9');
        await page.getByRole('button', { name: 'Save and continue' }).click();
        assert.equal(await page.title(), 'Your password is set');
        assert.equal(await page.locator('#username').innerText(), 'cleo.mop');
      });
    } finally {
      await context.close();
    }
    await roster.login('cleo.mop', 'Correct-horse-battery-9');
  });
});
