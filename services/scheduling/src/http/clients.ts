import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '@roster/platform/auth/middleware';
import { parse } from '@roster/platform/http/app';
import type { SchedulingContext } from '../context.js';
import { findClient, setDefaultSitter } from '../clients/default-sitter.js';

const uuid = z.uuid();
const defaultSitterBody = z.strictObject({ sitterId: uuid.nullable() });

/** Clients as scheduling sees them, with their default sitter (S1). */
export function clientsRouter(ctx: SchedulingContext): Router {
  const router = Router();
  const auth = ctx.auth.required;

  router.get('/clients/:id', auth, async (req, res) => {
    const me = principalOf(req);
    const id = parse(uuid, req.params.id, 'params');
    res.json(await findClient(ctx.prisma, me, id));
  });

  router.put('/clients/:id/default-sitter', auth, async (req, res) => {
    const me = principalOf(req);
    requirePermission(me, 'visits.manage');
    const id = parse(uuid, req.params.id, 'params');
    const body = parse(defaultSitterBody, req.body);
    res.json(await setDefaultSitter(ctx.prisma, me, id, body.sitterId));
  });

  return router;
}
