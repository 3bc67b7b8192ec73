import { randomBytes } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import type { IdentityContext } from '../context.js';
import { chooseOwnPassword } from '../passwords/change.js';
import { useUpTemporaryPassword, verifyPassword } from '../sessions/login.js';
import { normalizeUsername } from '../usernames/normalize.js';
import { tenantOfClient } from '../oidc/accounts.js';
import { createOpenIdProvider, grantFor, isOidcPath, signInPath } from '../oidc/provider.js';
import { messagePage, newPasswordPage, PAGE_HEADERS, signInPage, STYLESHEET } from '../oidc/pages.js';
import { clientAddress } from './callers.js';
import { accountPages } from './account-pages.js';
import { invitationPages } from './invitation-pages.js';
import { field, pageKit, refusalOnPage, WRONG_CREDENTIALS } from './page-kit.js';

/** What a sign-in remembers between its two forms when the password was temporary (L3). */
interface PendingPasswordChange { passwordChangeFor: string; username: string }

/**
 * The OpenID Provider's endpoints and identity's hosted pages (issue 17), mounted before the JSON
 * kit (they take form posts). The sign-in page is where an authorization request lands: username
 * and password checked exactly as `POST /sessions` checks them (throttling, one answer for every
 * wrong username or password, L8), a client of another tenant refused the same way; a temporary
 * password leads to choosing one's own (L3) before going on to the application.
 */
export function pagesRouter(ctx: IdentityContext): { router: Router; provider: Provider | null } {
  const router = Router();
  // Forms are bound by HMAC; the key derives from the token signing key so that every replica agrees.
  const signingKey = ctx.auth.signingKeys?.[0]?.privateKey.export({ format: 'jwk' }).d ?? randomBytes(32).toString('base64url');
  const kit = pageKit(ctx, String(signingKey));
  const { tenantName, form } = kit;
  // The token binds a form to its sign-in: only the page identity rendered for this interaction has it.
  const csrfFor = (uid: string) => kit.mac(uid);
  const csrfOk = (uid: string, given: unknown) => kit.macOk(uid, given);
  const page = kit.send;
  router.get('/assets/roster.css', (_req, res) => void res.type('text/css').setHeader('cache-control', 'public, max-age=3600').send(STYLESHEET));
  router.use(invitationPages(ctx, kit));
  router.use(accountPages(ctx, kit));
  const provider = createOpenIdProvider(ctx);
  if (!provider) return { router, provider };

  const callback = provider.callback();
  router.use((req, res, next) => {
    if (!isOidcPath(req.path)) return next();
    for (const [k, v] of Object.entries(PAGE_HEADERS())) res.setHeader(k, v);
    callback(req, res);
  });

  /** The interaction of this browser, with its client; a stale or foreign one is a page that says so. */
  const interactionOf = async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res);
    const client = await provider.Client.find(String(details.params.client_id));
    const tenantId = tenantOfClient(client as never);
    // Where the application gets sent once signed in: the form's post leads there through redirects.
    const redirect = typeof details.params.redirect_uri === 'string' ? new URL(details.params.redirect_uri).origin : null;
    return { details, client, tenantId, redirectOrigin: redirect };
  };

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
    const username = field(req.body?.username, 254);
    const again = async (error: string, status: number) =>
      page(res, status, signInPage({ action: signInPath(details.uid), csrf: csrfFor(details.uid), tenantName: await tenantName(tenantId), clientName: client?.clientName ?? null, username, error }), targets);
    try {
      const verified = await verifyPassword(ctx, { username, password: field(req.body?.password, 256), address: clientAddress(req) });
      // A client of another tenant reads as a wrong password: nothing tells that the person exists elsewhere.
      if (verified.login.tenant_id !== tenantId) return again(WRONG_CREDENTIALS, 401);
      if (verified.passwordChangeRequired) {
        if (!(await useUpTemporaryPassword(ctx, verified))) return again(WRONG_CREDENTIALS, 401);
        details.result = { roster: { passwordChangeFor: verified.login.person_id, username: normalizeUsername(username) } } as never;
        await details.save(Math.max(60, (details.exp ?? 0) - Math.floor(Date.now() / 1000)));
        return res.redirect(303, signInPath(details.uid));
      }
      await provider.interactionFinished(req, res, { login: { accountId: verified.login.person_id } }, { mergeWithLastSubmission: false });
    } catch (error) {
      const refusal = refusalOnPage(error);
      return again(refusal.message, refusal.status);
    }
  });

  router.post('/signin/:uid/password', form, async (req, res) => {
    const { details, tenantId, redirectOrigin } = await interactionOf(req, res);
    const pending = (details.result as { roster?: PendingPasswordChange } | undefined)?.roster;
    if (!pending || !csrfOk(details.uid, req.body?.csrf)) return page(res, 403, messagePage('Sign-in expired', 'This form is no longer valid. Go back to the application and sign in again.'));
    const again = async (error: string) => page(res, 400, newPasswordPage({
      action: `${signInPath(details.uid)}/password`, csrf: csrfFor(details.uid), tenantName: await tenantName(tenantId), username: pending.username, error,
    }), redirectOrigin ? [redirectOrigin] : []);
    const outcome = tenantId
      ? await chooseOwnPassword(ctx, { personId: pending.passwordChangeFor, tenantId, username: pending.username }, field(req.body?.newPassword, 256), field(req.body?.confirmPassword, 256))
      : { expired: true as const };
    if ('refused' in outcome) return again(outcome.refused);
    if ('expired' in outcome) return page(res, 403, messagePage('Sign-in expired', 'Go back to the application and sign in again.'));
    await provider.interactionFinished(req, res, { login: { accountId: pending.passwordChangeFor } }, { mergeWithLastSubmission: false });
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
