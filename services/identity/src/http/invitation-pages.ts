import { isPhoneNumber, phoneNumberE164 } from '@roster/contracts';
import { Router, type Request, type Response } from 'express';
import type { IdentityContext } from '../context.js';
import { acceptAsExistingPerson, acceptAsNewPerson, invitationArrived, unusableBecause, type UnusableInvitation } from '../invitations/accept.js';
import { hashRefreshToken as sha256 } from '../sessions/tokens.js';
import { invitationPage, joinedPage, messagePage, registeredPage } from '../oidc/pages.js';
import { BUILT_IN_ROLES, isBuiltInRole } from '@roster/contracts';
import { clientAddress } from './callers.js';
import { field, refusalOnPage, type PageKit } from './page-kit.js';

const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

/** The page each unusable link gets: the statuses of the JSON answer, in words for the invitee. */
const UNUSABLE_PAGES: Record<UnusableInvitation, [number, string, string]> = {
  unknown: [404, 'Invitation not found', 'This invitation link is not valid. Check that you opened the whole link, or ask for a new invitation.'],
  accepted: [409, 'Invitation already used', 'This invitation was already accepted. Sign in with your username and password.'],
  withdrawn: [410, 'Invitation withdrawn', 'This invitation was withdrawn. Ask the person who invited you if you should still join.'],
  expired: [410, 'Invitation expired', 'This invitation has expired. Ask the person who invited you to send a new one.'],
};

/**
 * P8 in a browser (issue 17 item 4): the invitation link from the e-mail or SMS opens a page where
 * a new person registers (names, phone, password, terms, marketing consent) and is told their
 * username, or an existing person signs in and is added. Expired, withdrawn, used or unknown links
 * get a page that says which. The same commands as `POST /invitations/{token}/accept` (JSON).
 */
export function invitationPages(ctx: IdentityContext, kit: PageKit): Router {
  const router = Router();
  const path = (token: string) => `/invitations/${token}/accept`;

  /** The invitation behind a link, or the page that says why it cannot be used. */
  async function pending(token: string, res: Response) {
    const invitation = TOKEN.test(token) && await invitationArrived(ctx, token) ? await ctx.prisma.invitationProjection.findFirst({ where: { tokenHash: sha256(token) } }) : null;
    const why = unusableBecause(invitation);
    if (why || !invitation) {
      const [status, title, message] = UNUSABLE_PAGES[why ?? 'unknown'];
      kit.send(res, status, messagePage(title, message));
      return null;
    }
    const [account] = await ctx.prisma.$queryRawUnsafe<{ name: string }[]>('SELECT name FROM account_projection WHERE id = $1::uuid AND tenant_id = $2::uuid', invitation.accountId, invitation.tenantId);
    return { invitation, tenantName: await kit.tenantName(invitation.tenantId), accountName: account?.name ?? null };
  }

  const show = (res: Response, token: string, p: NonNullable<Awaited<ReturnType<typeof pending>>>, status = 200, error: string | null = null, values: Record<string, string> = {}) =>
    kit.send(res, status, invitationPage({
      action: path(token), csrf: kit.mac(`invitation:${token}`), tenantName: p.tenantName, accountName: p.accountName,
      roleName: isBuiltInRole(p.invitation.roleKey) ? BUILT_IN_ROLES[p.invitation.roleKey].name : p.invitation.roleKey,
      invitee: { firstName: p.invitation.firstName, lastName: p.invitation.lastName, phone: p.invitation.phone }, error, values,
    }));

  router.get('/invitations/:token/accept', async (req, res) => {
    const token = String(req.params.token);
    const p = await pending(token, res);
    if (p) show(res, token, p);
  });

  // A browser's form post (the JSON API keeps POST with application/json).
  router.post('/invitations/:token/accept', (req, _res, next) => (req.is('application/x-www-form-urlencoded') ? next() : next('router')), kit.form, async (req: Request, res: Response) => {
    const token = String(req.params.token);
    const p = await pending(token, res);
    if (!p) return;
    if (!kit.macOk(`invitation:${token}`, req.body?.csrf)) return kit.send(res, 403, messagePage('Form expired', 'This form is no longer valid. Open the invitation link again.'));
    const b = req.body as Record<string, unknown>;
    const values = { firstName: field(b.firstName, 100).trim(), lastName: field(b.lastName, 100).trim(), phone: field(b.phone, 40).trim(), username: field(b.username, 254), marketingConsent: field(b.marketingConsent, 3) };
    try {
      if (field(b.intent, 20) === 'sign-in') {
        await acceptAsExistingPerson(ctx, token, { username: values.username, password: field(b.password, 256), address: clientAddress(req) });
        return kit.send(res, 200, joinedPage(p.tenantName));
      }
      if (!values.firstName || !values.lastName) return show(res, token, p, 400, 'Give your first and last name.', values);
      if (!isPhoneNumber(values.phone)) return show(res, token, p, 400, 'Give a mobile number in international form, such as +44 7911 123456.', values);
      if (field(b.acceptTerms, 3) !== 'yes') return show(res, token, p, 400, 'Accept the terms of use to register.', values);
      const result = await acceptAsNewPerson(ctx, token, {
        firstName: values.firstName, lastName: values.lastName, phone: phoneNumberE164(values.phone)!, password: field(b.password, 256),
        acceptTerms: true, marketingConsent: values.marketingConsent === 'yes',
      });
      kit.send(res, 201, registeredPage(values.firstName, result.username, p.tenantName));
    } catch (error) {
      const refusal = refusalOnPage(error);
      show(res, token, p, refusal.status, refusal.message, values);
    }
  });
  return router;
}
