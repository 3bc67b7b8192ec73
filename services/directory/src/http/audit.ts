import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import { requireToken } from '../access/caller.js';
import { readAudit } from '../audit/queries.js';
import { getOperation } from '../operations/operations.js';
import type { DirectoryContext } from '../context.js';
import { authenticated, callerOf } from './support.js';

const auditQuery = z.strictObject({
  accountId: z.uuid().optional(),
  subjectId: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

/** The audit trail (P9) and operation status (B4). */
export function auditRouter(ctx: DirectoryContext): Router {
  const router = Router();
  const auth = authenticated(ctx);
  router.get('/audit', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'audit.read');
    res.json(await readAudit(ctx.prisma, caller, parse(auditQuery, req.query, 'query')));
  });
  router.get('/operations/:id', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'operations.read');
    const id = parse(z.uuid(), req.params.id, 'params');
    const operation = await getOperation(ctx.prisma, caller.tenantId, id);
    if (!operation) throw notFound(`operation ${id}`);
    res.json(operation);
  });
  return router;
}
