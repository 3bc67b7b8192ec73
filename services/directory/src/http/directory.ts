import { emailAddress, phoneNumber } from '@roster/contracts';
import { Router } from 'express';
import { z } from 'zod';
import { parse, requireOperatorKey } from '@roster/platform/http/app';
import { forbidden, notFound } from '@roster/platform/http/problem';
import { canInAccount, requireToken } from '../access/caller.js';
import { requireActOn } from '../access/person-access.js';
import { accountDto, createAccount, rootAccountOf } from '../accounts/accounts.js';
import { assignClient } from '../clients/assign.js';
import { changeRole, defineRole } from '../roles/commands.js';
import { rolesByKey } from '../roles/definitions.js';
import type { DirectoryContext } from '../context.js';
import { provisionTenant } from '../tenants/provision.js';
import { readPerson } from '../people/view.js';
import { unknownReference } from '../errors.js';
import { roleKey } from './people.js';
import { authenticated, callerOf } from './support.js';
import { openTimeCursor, sealTimeCursor } from '@roster/platform/paging';

const uuid = z.uuid();
const tenantBody = z.strictObject({
  id: uuid.optional(),
  name: z.string().trim().min(1).max(200),
  owner: z.strictObject({
    firstName: z.string().trim().min(1).max(100),
    lastName: z.string().trim().min(1).max(100),
    email: emailAddress,
    phone: phoneNumber.optional(),
  }),
});
const accountBody = z.strictObject({ name: z.string().trim().min(1).max(200), kind: z.enum(['branch', 'client_account', 'area']), parentId: uuid.optional() });
const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100), cursor: z.string().max(2000).optional() });
const scope = z.enum(['account', 'assigned_clients', 'own_areas', 'self']);
const permissions = z.array(z.string().max(64)).max(200);
const roleBody = z.strictObject({ key: roleKey, name: z.string().trim().min(1).max(100), permissions, scope: scope.optional() });
const roleChange = z.strictObject({ name: z.string().trim().min(1).max(100).optional(), permissions: permissions.optional(), scope: scope.optional() });
const assigneeBody = z.strictObject({ staffId: uuid.nullable() });

/** Tenants, accounts (P1), roles (P2) and client assignment (P3). */
export function directoryRouter(ctx: DirectoryContext): Router {
  const router = Router();
  const auth = authenticated(ctx);

  router.post('/tenants', async (req, res) => {
    // Only the operator key (tenant provisioning): no tenant header needed.
    requireOperatorKey(req, ctx.config.operatorKey, 'tenant provisioning needs the operator key in x-operator-key');
    const body = parse(tenantBody, req.body);
    const created = await provisionTenant(ctx.prisma, body);
    ctx.relay.nudge();
    res.status(201).json(created);
  });

  router.post('/accounts', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'accounts.manage');
    const body = parse(accountBody, req.body);
    const account = await ctx.prisma.$transaction(async (tx) => {
      const parentId = body.parentId ?? (await rootAccountOf(tx, caller.tenantId));
      if (!parentId) throw notFound(`tenant ${caller.tenantId}`);
      if (!(await tx.account.findFirst({ where: { id: parentId, tenantId: caller.tenantId }, select: { id: true } }))) throw unknownReference('account', [parentId]);
      if (!(await canInAccount(tx, caller, 'accounts.manage', parentId))) throw forbidden(`your roles do not give accounts.manage in account ${parentId}`);
      return createAccount(tx, caller.tenantId, { name: body.name, kind: body.kind, parentId }, caller.actor);
    });
    ctx.relay.nudge();
    res.status(201).location(`/accounts/${account.id}`).json(accountDto(account));
  });

  router.get('/accounts', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    const query = parse(listQuery, req.query, 'query');
    const binding = { tenantId: caller.tenantId, query: 'accounts' };
    const after = openTimeCursor(query.cursor, binding);
    // The accounts the caller holds a role in, and every account below them (owners and admins: all).
    const roots = caller.grants.map((g) => g.accountId);
    const rows = await ctx.prisma.account.findMany({
      where: {
        tenantId: caller.tenantId,
        ...(caller.tenantWide ? {} : { ancestors: { hasSome: roots } }),
        ...(after ? { OR: [{ createdAt: { gt: after.at } }, { createdAt: after.at, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({ items: page.map(accountDto), nextCursor: rows.length > query.limit && last ? sealTimeCursor(last.createdAt, last.id, binding) : null });
  });

  router.get('/roles', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    res.json({ items: [...(await rolesByKey(ctx.prisma, caller.tenantId)).values()], nextCursor: null });
  });

  router.post('/roles', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'roles.manage');
    const body = parse(roleBody, req.body);
    const role = await ctx.prisma.$transaction((tx) => defineRole(tx, caller.tenantId, body, caller.actor, caller.rank));
    ctx.relay.nudge();
    res.status(201).location(`/roles/${role.key}`).json(role);
  });

  router.patch('/roles/:key', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'roles.manage');
    const key = parse(roleKey, req.params.key, 'params');
    const body = parse(roleChange, req.body);
    const role = await ctx.prisma.$transaction((tx) => changeRole(tx, caller.tenantId, key, body, caller.actor, caller.rank));
    ctx.relay.nudge();
    res.json(role);
  });

  router.put('/clients/:id/assignee', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'clients.assign');
    const clientId = parse(uuid, req.params.id, 'params');
    const body = parse(assigneeBody, req.body);
    await ctx.prisma.$transaction(async (tx) => {
      await requireActOn(tx, caller, 'clients.assign', clientId);
      await assignClient(tx, caller.tenantId, clientId, body.staffId, caller.actor);
    });
    ctx.relay.nudge();
    res.json(await readPerson(ctx.prisma, caller.tenantId, clientId));
  });
  return router;
}
