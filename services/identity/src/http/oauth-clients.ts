import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import type { IdentityContext } from '../context.js';
import { deleteClient, listClients, OIDC_SCOPES, registerClient, rotateClientSecret } from '../oidc/clients.js';

/** An absolute http(s) URL without a fragment (OAuth 2.0 §3.1.2); exact match at use. */
const uri = z.url({ protocol: /^https?$/ }).max(2000).refine((u) => !u.includes('#'), 'no fragment');
const newClient = z.strictObject({
  name: z.string().trim().min(1).max(100),
  redirectUris: z.array(uri).min(1).max(10),
  postLogoutRedirectUris: z.array(uri).max(10).optional(),
  public: z.boolean(),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  backchannelLogoutUri: uri.optional(),
  scopes: z.array(z.enum(OIDC_SCOPES)).min(1).max(OIDC_SCOPES.length).refine((s) => s.includes('openid'), 'openid is required').optional(),
}).refine((c) => !(c.public && c.tokenEndpointAuthMethod), { path: ['tokenEndpointAuthMethod'], message: 'a public client has no secret' });
const clientId = z.string().regex(/^rc_[A-Za-z0-9_-]{16}$/, 'a client id (rc_…)');

/** OAuth clients of the caller's tenant (issue 17 item 2): owners and admins (settings.manage). */
export function oauthClientsRouter(ctx: IdentityContext): Router {
  const router = Router();
  const auth = ctx.auth.required;
  router.post('/oauth/clients', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'settings.manage');
    const created = await registerClient(ctx.prisma, me, parse(newClient, req.body));
    res.setHeader('cache-control', 'no-store');
    res.status(201).location(`/oauth/clients/${created.clientId}`).json(created);
  });
  router.get('/oauth/clients', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'settings.manage');
    res.json({ items: await listClients(ctx.prisma, me), nextCursor: null });
  });
  router.post('/oauth/clients/:id/secret', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'settings.manage');
    const rotated = await rotateClientSecret(ctx.prisma, me, parse(clientId, req.params.id, 'params'));
    res.setHeader('cache-control', 'no-store');
    res.json(rotated);
  });
  router.delete('/oauth/clients/:id', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'settings.manage');
    await deleteClient(ctx.prisma, me, parse(clientId, req.params.id, 'params'));
    res.status(204).end();
  });
  return router;
}
