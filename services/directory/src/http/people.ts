import { Router } from 'express';
import { z } from 'zod';
import { operatorTenant, parse } from '@roster/platform/http/app';
import { notFound } from '@roster/platform/http/problem';
import type { Actor } from '@roster/contracts';
import type { DirectoryContext } from '../service.js';
import { changeLifecycle, createPerson, type PersonRow } from '../people/commands.js';

const uuid = z.uuid();
const newPersonBody = z.strictObject({
  kind: z.enum(['client', 'staff']),
  firstName: z.string().trim().min(1).max(100),
  lastName: z.string().trim().min(1).max(100),
  email: z.email().max(320).optional(),
  phone: z.string().regex(/^\+?[0-9 ().-]{6,32}$/, 'a phone number such as +44 20 7946 0958').optional(),
  accountId: uuid,
  roleKey: z.string().regex(/^[a-z][a-z0-9_]{1,63}$/).optional(),
});
const lifecycleBody = z.strictObject({ reason: z.string().max(500).optional(), dryRun: z.boolean().optional() }).default({});

// Until logins exist (identity), the directory is driven through the operator channel.
const OPERATOR: Actor = { kind: 'operator', personId: null, impersonatorId: null };

export const personDto = (p: PersonRow) => ({
  id: p.id, kind: p.kind, firstName: p.firstName, lastName: p.lastName, email: p.email, phone: p.phone,
  accountId: p.accountId, roleKey: p.roleKey, status: p.status, version: p.version,
  createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(),
});

export function peopleRouter(ctx: DirectoryContext): Router {
  const router = Router();
  const tenantOf = (req: Parameters<typeof operatorTenant>[0]) => operatorTenant(req, ctx.config.operatorKey);

  router.post('/people', async (req, res) => {
    const tenantId = tenantOf(req);
    const body = parse(newPersonBody, req.body);
    const person = await createPerson(ctx.prisma, tenantId, body, OPERATOR);
    ctx.relay.nudge();
    res.status(201).location(`/people/${person.id}`).json(personDto(person));
  });

  router.get('/people/:id', async (req, res) => {
    const tenantId = tenantOf(req);
    const id = parse(uuid, req.params.id, 'params');
    const person = await ctx.prisma.person.findFirst({ where: { id, tenantId } });
    if (!person) throw notFound(`person ${id}`);
    res.json(personDto(person));
  });

  for (const action of ['deactivate', 'reactivate'] as const) {
    router.post(`/people/:id/${action}`, async (req, res) => {
      const tenantId = tenantOf(req);
      const id = parse(uuid, req.params.id, 'params');
      const body = parse(lifecycleBody, req.body ?? {});
      const result = await changeLifecycle(ctx.prisma, tenantId, id, { command: { type: action }, ...body }, OPERATOR);
      ctx.relay.nudge();
      res.status(202).location(`/operations/${result.operationId}`).json(result);
    });
  }
  return router;
}
