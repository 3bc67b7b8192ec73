import { Router } from 'express';
import { z } from 'zod';
import { operatorTenant, parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { DirectoryContext } from '../service.js';
import { getOperation } from '../operations/operations.js';

export function operationsRouter(ctx: DirectoryContext): Router {
  const router = Router();
  router.get('/operations/:id', async (req, res) => {
    const tenantId = operatorTenant(req, ctx.config.operatorKey);
    const id = parse(z.uuid(), req.params.id, 'params');
    const operation = await getOperation(ctx.prisma, tenantId, id);
    if (!operation) throw notFound(`operation ${id}`);
    res.json(operation);
  });
  return router;
}
