import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import type { IdentityContext } from '../context.js';
import { impersonate } from '../impersonation/impersonate.js';
import { uuid } from './schemas.js';

const body = z.strictObject({ personId: uuid, reason: z.string().trim().min(1).max(500) });

export function impersonationsRouter(ctx: IdentityContext): Router {
  const router = Router();
  router.post('/impersonations', ctx.auth.required, async (req, res) => {
    const input = parse(body, req.body);
    const result = await impersonate(ctx, principalOf(req), input.personId, input.reason);
    res.setHeader('cache-control', 'no-store');
    res.status(201).json(result);
  });
  return router;
}
