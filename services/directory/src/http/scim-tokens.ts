import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@roster/platform/http/app';
import type { DirectoryContext } from '../context.js';
import { issueScimToken, listScimTokens, revokeScimToken, scimTokenDto } from '../scim/tokens.js';
import { roleKey } from './people.js';
import { authenticated, callerOf } from './support.js';

const tokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  accountId: z.uuid().optional(),
  roleKey: roleKey.optional(),
});

/** B3: an owner issues (shown once), lists and revokes the tenant's SCIM tokens. */
export function scimTokensRouter(ctx: DirectoryContext): Router {
  const router = Router();
  const auth = authenticated(ctx);

  router.post('/scim-tokens', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    const body = parse(tokenBody, req.body);
    const { token, row } = await issueScimToken(ctx.prisma, caller, body);
    res.status(201).location(`/scim-tokens/${row.id}`).json({ ...scimTokenDto(row), token });
  });

  router.get('/scim-tokens', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    res.json({ items: (await listScimTokens(ctx.prisma, caller)).map(scimTokenDto), nextCursor: null });
  });

  router.delete('/scim-tokens/:id', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    await revokeScimToken(ctx.prisma, caller, parse(z.uuid(), req.params.id, 'params'));
    res.status(204).end();
  });
  return router;
}
