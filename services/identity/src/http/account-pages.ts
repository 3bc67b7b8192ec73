import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { IdentityContext } from '../context.js';
import { chooseOwnPassword } from '../passwords/change.js';
import { useUpTemporaryPassword, verifyPassword } from '../sessions/login.js';
import { normalizeUsername } from '../usernames/normalize.js';
import { accountSignInPage, alreadySetPage, messagePage, newPasswordPage, passwordSetPage } from '../oidc/pages.js';
import { clientAddress } from './callers.js';
import { field, refusalOnPage, WRONG_CREDENTIALS, type PageKit } from './page-kit.js';

const CSRF_COOKIE = 'roster_account_csrf';
const PENDING_COOKIE = 'roster_account_pending';
const PENDING_TTL_MS = 10 * 60_000;

interface Pending { personId: string; tenantId: string; username: string; exp: number }

const cookie = (req: Request, name: string): string | null => {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
};

/**
 * `/account`: where the credentials and new-password e-mails lead (L3, L5; issue 17 item 4). A
 * person signs in with the temporary password from the e-mail, chooses their own, and is told the
 * username to use in their organisation's applications. No application is needed for this. The
 * forms are double-submit CSRF protected (a random cookie, its HMAC in the form); between the two
 * steps a ten-minute HttpOnly cookie signed with the pages' HMAC remembers who signed in with the temporary
 * password (which that sign-in used up, as POST /sessions does).
 */
export function accountPages(ctx: IdentityContext, kit: PageKit): Router {
  const router = Router();
  const secure = (req: Request) => (req.secure ? '; Secure' : '');
  const setCookie = (req: Request, res: Response, name: string, value: string, maxAgeS: number) =>
    res.append('set-cookie', `${name}=${value}; Path=/account; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure(req)}`);

  /** The form's CSRF token, from this browser's cookie (made when missing). */
  const csrfOf = (req: Request, res: Response) => {
    let nonce = cookie(req, CSRF_COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{32,64}$/.test(nonce)) {
      nonce = randomBytes(32).toString('base64url');
      setCookie(req, res, CSRF_COOKIE, nonce, 3600);
    }
    return kit.mac(`csrf:${nonce}`);
  };
  const csrfOk = (req: Request) => {
    const nonce = cookie(req, CSRF_COOKIE);
    return !!nonce && kit.macOk(`csrf:${nonce}`, field(req.body?.csrf, 100));
  };
  const pendingOf = (req: Request): Pending | null => {
    const raw = cookie(req, PENDING_COOKIE);
    const [payload, mac] = raw?.split('.') ?? [];
    if (!payload || !mac || !kit.macOk(`pending:${payload}`, mac)) return null;
    const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Pending;
    return p.exp > Date.now() ? p : null;
  };
  const expired = (res: Response) => kit.send(res, 403, messagePage('Form expired', 'This form is no longer valid. Open the link from your e-mail again.'));

  router.get('/account', (req, res) => kit.send(res, 200, accountSignInPage({ action: '/account', csrf: csrfOf(req, res) })));

  router.post('/account', kit.form, async (req, res) => {
    if (!csrfOk(req)) return expired(res);
    const username = field(req.body?.username, 254);
    const again = (status: number, error: string) => kit.send(res, status, accountSignInPage({ action: '/account', csrf: csrfOf(req, res), username, error }));
    try {
      const verified = await verifyPassword(ctx, { username, password: field(req.body?.password, 256), address: clientAddress(req) });
      const name = normalizeUsername(username);
      const tenantName = await kit.tenantName(verified.login.tenant_id);
      if (!verified.passwordChangeRequired) return kit.send(res, 200, alreadySetPage(name, tenantName));
      if (!(await useUpTemporaryPassword(ctx, verified))) return again(401, WRONG_CREDENTIALS);
      const payload = Buffer.from(JSON.stringify({ personId: verified.login.person_id, tenantId: verified.login.tenant_id, username: name, exp: Date.now() + PENDING_TTL_MS })).toString('base64url');
      setCookie(req, res, PENDING_COOKIE, `${payload}.${kit.mac(`pending:${payload}`)}`, PENDING_TTL_MS / 1000);
      kit.send(res, 200, newPasswordPage({ action: '/account/password', csrf: csrfOf(req, res), tenantName, username: name }));
    } catch (error) {
      const refusal = refusalOnPage(error);
      return again(refusal.status, refusal.message);
    }
  });

  router.post('/account/password', kit.form, async (req, res) => {
    const pending = pendingOf(req);
    if (!pending || !csrfOk(req)) return expired(res);
    const tenantName = await kit.tenantName(pending.tenantId);
    const again = (error: string) => kit.send(res, 400, newPasswordPage({ action: '/account/password', csrf: csrfOf(req, res), tenantName, username: pending.username, error }));
    const outcome = await chooseOwnPassword(ctx, pending, field(req.body?.newPassword, 256), field(req.body?.confirmPassword, 256));
    if ('refused' in outcome) return again(outcome.refused);
    if ('expired' in outcome) return expired(res);
    res.append('set-cookie', `${PENDING_COOKIE}=; Path=/account; HttpOnly; SameSite=Strict; Max-Age=0${secure(req)}`);
    kit.send(res, 200, passwordSetPage(pending.username, tenantName));
  });
  return router;
}
