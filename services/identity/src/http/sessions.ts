import { Router, type Response } from 'express';
import { z } from 'zod';
import { principalOf } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { IdentityContext } from '../context.js';
import { changePassword } from '../passwords/change.js';
import { passwordLogin } from '../sessions/login.js';
import { logout, refreshSession } from '../sessions/refresh.js';
import { clientAddress } from './callers.js';
import { password, username } from './schemas.js';

const loginBody = z.strictObject({ username, password });
const refreshBody = z.strictObject({ refreshToken: z.string().min(20).max(200) });
const passwordBody = z.strictObject({ currentPassword: password.optional(), newPassword: password });

/** Sessions and tokens (rule 7, L3): log in, refresh, log out, set one's password, who am I. */
export function sessionsRouter(ctx: IdentityContext): Router {
  const router = Router();
  const noStore = (res: Response) => res.setHeader('cache-control', 'no-store');

  router.post('/sessions', async (req, res) => {
    const body = parse(loginBody, req.body);
    const tokens = await passwordLogin(ctx, { ...body, address: clientAddress(req) });
    noStore(res);
    res.status(201).json(tokens);
  });

  router.post('/sessions/refresh', async (req, res) => {
    const body = parse(refreshBody, req.body);
    const tokens = await refreshSession(ctx, body.refreshToken);
    noStore(res);
    res.json(tokens);
  });

  router.delete('/sessions/current', ctx.auth.allowingPasswordChange, async (req, res) => {
    await logout(ctx, principalOf(req));
    res.status(204).end();
  });

  router.put('/password', ctx.auth.allowingPasswordChange, async (req, res) => {
    const body = parse(passwordBody, req.body);
    const tokens = await changePassword(ctx, principalOf(req), { ...body, address: clientAddress(req) });
    noStore(res);
    res.json(tokens);
  });

  router.get('/me', ctx.auth.allowingPasswordChange, async (req, res) => {
    const me = principalOf(req);
    const login = await ctx.prisma.login.findFirst({ where: { personId: me.personId, tenantId: me.tenantId }, select: { username: true } });
    if (!login) throw notFound('your login');
    res.json({
      personId: me.personId, tenantId: me.tenantId, username: login.username, kind: me.kind, roles: me.roles,
      permissions: [...me.permissions].sort(), passwordChangeRequired: me.passwordChangeRequired, expiresAt: me.expiresAt.toISOString(),
      ...(me.impersonatorId ? { actor: { personId: me.impersonatorId } } : {}),
    });
  });
  return router;
}
