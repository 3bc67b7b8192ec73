import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import { HttpProblem } from '@roster/platform/http/problem';
import type { IdentityContext } from '../service.js';
import { storeOwnPassword } from '../passwords/change.js';
import { hashPassword } from '../passwords/hashing.js';
import { checkPassword, REJECTION_DETAIL } from '../passwords/policy.js';
import { signOutLocally } from '../logins/manage.js';
import { verifyPassword } from '../sessions/login.js';
import { normalizeUsername } from '../usernames/normalize.js';
import { tenantOfClient } from '../oidc/accounts.js';
import { createOpenIdProvider, grantFor, isOidcPath, signInPath } from '../oidc/provider.js';
import { messagePage, newPasswordPage, PAGE_HEADERS, signInPage, STYLESHEET } from '../oidc/pages.js';
import { clientAddress } from './callers.js';

/** What a sign-in remembers between its two forms when the password was temporary (L3). */
interface PendingPasswordChange { passwordChangeFor: string; username: string }

const text = (v: unknown, max: number): string => (typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : '');

/**
 * The OpenID Provider's endpoints and identity's hosted pages (issue 17), mounted before the JSON
 * kit (they take form posts). The sign-in page is where an authorization request lands: username
 * and password checked exactly as `POST /sessions` checks them (throttling, one answer for every
 * wrong username or password, L8), a client of another tenant refused the same way; a temporary
 * password leads to choosing one's own (L3) before going on to the application.
 */
export function pagesRouter(ctx: IdentityContext): { router: Router; provider: Provider | null } {
  const router = Router();
  const provider = createOpenIdProvider(ctx);
  router.get('/assets/roster.css', (_req, res) => void res.type('text/css').setHeader('cache-control', 'public, max-age=3600').send(STYLESHEET));
  if (!provider) return { router, provider };

  const callback = provider.callback();
  router.use((req, res, next) => {
    if (!isOidcPath(req.path)) return next();
    for (const [k, v] of Object.entries(PAGE_HEADERS())) res.setHeader(k, v);
    // Discovery, JWKS, tokens and userinfo may be cached by nobody but are public JSON; pages are HTML.
    callback(req, res);
  });

  const csrfKey = Buffer.from(hkdfSync('sha256', Buffer.from(String(ctx.auth.signingKeys![0]!.privateKey.export({ format: 'jwk' }).d), 'base64url'), 'roster', 'signin-csrf', 32));
  // The token binds a form to its sign-in: only the page identity rendered for this interaction has it.
  const csrfFor = (uid: string) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
  const csrfOk = (uid: string, given: unknown) => {
    const expected = Buffer.from(csrfFor(uid));
    const actual = Buffer.from(typeof given === 'string' ? given : '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
  const page = (res: Response, status: number, html: string, formTargets: string[] = []) => {
    for (const [k, v] of Object.entries(PAGE_HEADERS(formTargets))) res.setHeader(k, v);
    res.status(status).type('html').send(html);
  };
  const tenantName = async (tenantId: string | null) => {
    if (!tenantId) return null;
    const [root] = await ctx.prisma.$queryRawUnsafe<{ name: string }[]>(
      `SELECT name FROM account_projection WHERE tenant_id = $1::uuid AND parent_id IS NULL ORDER BY name LIMIT 1`, tenantId,
    );
    return root?.name ?? null;
  };
  /** The interaction of this browser, with its client; a stale or foreign one is a page that says so. */
  const interactionOf = async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res);
    const client = await provider.Client.find(String(details.params.client_id));
    const tenantId = tenantOfClient(client as never);
    // Where the application gets sent once signed in: the form's post leads there through redirects.
    const redirect = typeof details.params.redirect_uri === 'string' ? new URL(details.params.redirect_uri).origin : null;
    return { details, client, tenantId, redirectOrigin: redirect };
  };
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 });

  router.get('/signin/:uid', async (req, res) => {
    const { details, client, tenantId, redirectOrigin } = await interactionOf(req, res);
    const uid = details.uid;
    // Consent asked for explicitly (prompt=consent): a first-party application of the tenant gets its grant without a screen.
    if (details.prompt.name === 'consent' && details.session?.accountId && client) {
      const grant = await grantFor(provider, client, details.session.accountId, String(details.params.scope ?? 'openid'));
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    const pending = (details.result as { roster?: PendingPasswordChange } | undefined)?.roster;
    const name = await tenantName(tenantId);
    if (pending) {
      return page(res, 200, newPasswordPage({ action: `${signInPath(uid)}/password`, csrf: csrfFor(uid), tenantName: name, username: pending.username }), redirectOrigin ? [redirectOrigin] : []);
    }
    page(res, 200, signInPage({ action: signInPath(uid), csrf: csrfFor(uid), tenantName: name, clientName: client?.clientName ?? null }), redirectOrigin ? [redirectOrigin] : []);
  });

  router.post('/signin/:uid', form, async (req, res) => {
    const { details, client, tenantId, redirectOrigin } = await interactionOf(req, res);
    const targets = redirectOrigin ? [redirectOrigin] : [];
    if (!csrfOk(details.uid, req.body?.csrf)) return page(res, 403, messagePage('Sign-in expired', 'This form is no longer valid. Go back to the application and sign in again.'));
    const username = text(req.body?.username, 254);
    const again = async (error: string, status: number) =>
      page(res, status, signInPage({ action: signInPath(details.uid), csrf: csrfFor(details.uid), tenantName: await tenantName(tenantId), clientName: client?.clientName ?? null, username, error }), targets);
    try {
      const verified = await verifyPassword(ctx, { username, password: text(req.body?.password, 256), address: clientAddress(req) });
      // A client of another tenant reads as a wrong password: nothing tells that the person exists elsewhere.
      if (verified.login.tenant_id !== tenantId) return again('The username or the password is wrong.', 401);
      if (verified.passwordChangeRequired) {
        // The temporary password is used once (as by POST /sessions): this sign-in can only set a new one.
        const used = await ctx.prisma.$executeRawUnsafe(
          'UPDATE login SET password_hash = NULL, updated_at = now() WHERE person_id = $1::uuid AND password_hash = $2', verified.login.person_id, verified.login.password_hash,
        );
        if (used !== 1) return again('The username or the password is wrong.', 401);
        details.result = { roster: { passwordChangeFor: verified.login.person_id, username: normalizeUsername(username) } } as never;
        await details.save(Math.max(60, (details.exp ?? 0) - Math.floor(Date.now() / 1000)));
        return res.redirect(303, signInPath(details.uid));
      }
      await provider.interactionFinished(req, res, { login: { accountId: verified.login.person_id } }, { mergeWithLastSubmission: false });
    } catch (error) {
      if (!(error instanceof HttpProblem) || error.status >= 500) throw error;
      if (error.status === 429) return again('Too many attempts. Wait a few minutes, then try again.', 429);
      if (error.slug === 'invalid-credentials') return again('The username or the password is wrong.', 401);
      return again(error.detail ?? error.title, error.status);
    }
  });

  router.post('/signin/:uid/password', form, async (req, res) => {
    const { details, tenantId, redirectOrigin } = await interactionOf(req, res);
    const pending = (details.result as { roster?: PendingPasswordChange } | undefined)?.roster;
    if (!pending || !csrfOk(details.uid, req.body?.csrf)) return page(res, 403, messagePage('Sign-in expired', 'This form is no longer valid. Go back to the application and sign in again.'));
    const newPassword = text(req.body?.newPassword, 256);
    const again = async (error: string) => page(res, 400, newPasswordPage({
      action: `${signInPath(details.uid)}/password`, csrf: csrfFor(details.uid), tenantName: await tenantName(tenantId), username: pending.username, error,
    }), redirectOrigin ? [redirectOrigin] : []);
    if (newPassword !== text(req.body?.confirmPassword, 256)) return again('The two passwords differ.');
    const rejection = checkPassword(newPassword, pending.username);
    if (rejection) return again(REJECTION_DETAIL[rejection]);
    const passwordHash = await hashPassword(newPassword);
    const login = await ctx.prisma.login.findFirst({ where: { personId: pending.passwordChangeFor, tenantId: tenantId ?? undefined } });
    if (!login) return page(res, 403, messagePage('Sign-in expired', 'Go back to the application and sign in again.'));
    const revocation = await ctx.prisma.$transaction((tx) =>
      storeOwnPassword(tx, login, passwordHash, { kind: 'person', personId: login.personId, impersonatorId: null }));
    // Signed out of every application first: the session this sign-in opens next must not be caught by it.
    await signOutLocally(ctx, revocation);
    await provider.interactionFinished(req, res, { login: { accountId: login.personId } }, { mergeWithLastSubmission: false });
  });

  // A sign-in that cannot go on (expired, another browser's, unknown): a page, never a JSON problem.
  router.use('/signin', (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const name = (error as { name?: string }).name;
    if (name === 'SessionNotFound' || name === 'InvalidRequest' || name === 'InvalidClient') {
      return page(res, 400, messagePage('Sign-in expired', 'This sign-in is no longer valid. Go back to the application and sign in again.'));
    }
    next(error);
  });
  return { router, provider };
}
