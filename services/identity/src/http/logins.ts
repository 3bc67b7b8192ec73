import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import { DomainError } from '@roster/platform/errors';
import { HttpProblem } from '@roster/platform/http/problem';
import type { IdentityContext } from '../context.js';
import { personCaller } from '../logins/caller.js';
import { grantLogin } from '../logins/grant.js';
import { issueNewPassword, setLoginEnabled } from '../logins/manage.js';
import { usernameAvailability } from '../usernames/availability.js';
import { callerOf, personOrOperator } from './callers.js';
import { email, password, uuid } from './schemas.js';

const grantItem = z.strictObject({
  personId: uuid,
  username: z.string().trim().min(1).max(128),
  temporaryPassword: password.optional(),
  password: password.optional(),
  sendTo: email.optional(),
});
const bulkBody = z.strictObject({ items: z.array(z.unknown()).min(1).max(200) });
const patchBody = z.strictObject({ enabled: z.boolean() });
const newPasswordBody = z.strictObject({ sendTo: email.optional() }).default({});
const availabilityQuery = z.strictObject({
  username: z.string().max(320).optional(),
  firstName: z.string().max(100).optional(),
  lastName: z.string().max(100).optional(),
});

/** Logins (L1, L2, L4, L5, L6). */
export function loginsRouter(ctx: IdentityContext): Router {
  const router = Router();

  router.get('/usernames/availability', ctx.auth.required, async (req, res) => {
    requirePermission(principalOf(req), 'logins.grant');
    const query = parse(availabilityQuery, req.query, 'query');
    res.json(await ctx.prisma.$transaction((tx) => usernameAvailability(tx, query)));
  });

  router.post('/logins', personOrOperator(ctx), async (req, res) => {
    const body = parse(grantItem, req.body);
    const login = await grantLogin(ctx, callerOf(req, res), body);
    res.status(201).location(`/logins/${login.personId}`).json(login);
  });

  // One request, a result per item (201 or the item's problem): one bad item does not stop the others.
  router.post('/logins\\:bulk', personOrOperator(ctx), async (req, res) => {
    const { items } = parse(bulkBody, req.body);
    const caller = callerOf(req, res);
    const results = [];
    for (const [index, raw] of items.entries()) {
      try {
        const item = parse(grantItem, raw);
        results.push({ index, personId: item.personId, status: 201, login: await grantLogin(ctx, caller, item) });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        const problem = HttpProblem.of(error);
        const personId = (raw as { personId?: unknown })?.personId;
        results.push({ index, personId: typeof personId === 'string' ? personId : null, status: problem.status, problem: problem.toJSON() });
      }
    }
    const granted = results.filter((r) => r.status === 201).length;
    res.status(200).json({ granted, failed: results.length - granted, results });
  });

  router.patch('/logins/:personId', ctx.auth.required, async (req, res) => {
    const personId = parse(uuid, req.params.personId, 'params');
    const body = parse(patchBody, req.body);
    const me = principalOf(req);
    const { changed: _changed, ...login } = await setLoginEnabled(ctx, { ...personCaller(me), kind: 'person', principal: me }, personId, body.enabled);
    res.json(login);
  });

  router.post('/logins/:personId/new-password', personOrOperator(ctx), async (req, res) => {
    const personId = parse(uuid, req.params.personId, 'params');
    const body = parse(newPasswordBody, req.body ?? {});
    res.json(await issueNewPassword(ctx, callerOf(req, res), personId, body.sendTo));
  });
  return router;
}
