import { emailAddress, phoneNumber } from '@roster/contracts';
import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@roster/platform/http/app';
import { forbidden, notFound } from '@roster/platform/http/problem';
import { canInAccount, personCondition, requireToken } from '../access/caller.js';
import { requireActOn, requireVisible } from '../access/person-access.js';
import { changeLifecycle, createPersonInTx, updatePerson } from '../people/commands.js';
import type { LifecycleAction } from '../people/person.js';
import { searchPeople } from '../people/search.js';
import { readPerson } from '../people/view.js';
import { findRole } from '../roles/definitions.js';
import type { DirectoryContext } from '../context.js';
import { unknownReference } from '../errors.js';
import { authenticated, callerOf, committed } from './support.js';

const uuid = z.uuid();
const name = z.string().trim().min(1).max(100);
const email = emailAddress;
const phone = phoneNumber;
const landingPage = z.string().regex(/^\/[A-Za-z0-9/_-]{0,199}$/, 'a path inside the app, such as /schedule');
export const roleKey = z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'a role key: lower case letters, digits and _');

const newPersonBody = z.strictObject({
  kind: z.enum(['client', 'staff']),
  firstName: name,
  lastName: name,
  email: email.optional(),
  phone: phone.optional(),
  accountId: uuid,
  roleKey: roleKey.optional(),
  defaultLandingPage: landingPage.optional(),
  dailyReminder: z.boolean().optional(),
});
const profileBody = z.strictObject({
  firstName: name.optional(),
  lastName: name.optional(),
  email: email.nullable().optional(),
  phone: phone.nullable().optional(),
  defaultLandingPage: landingPage.nullable().optional(),
  dailyReminder: z.boolean().optional(),
}).refine((b) => Object.keys(b).length > 0, 'give at least one field to change');
const peopleQuery = z.strictObject({
  q: z.string().trim().min(1).max(100).optional(),
  kind: z.enum(['client', 'staff']).optional(),
  roleKey: roleKey.optional(),
  accountId: uuid.optional(),
  status: z.enum(['active', 'inactive', 'archived']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2000).optional(),
});
const lifecycleBody = z.strictObject({ reason: z.string().max(500).optional(), dryRun: z.boolean().optional() });
const PREFERENCES = new Set(['defaultLandingPage', 'dailyReminder']);

const PERMISSION_OF: Record<LifecycleAction, 'people.deactivate' | 'people.archive'> = {
  deactivate: 'people.deactivate', reactivate: 'people.deactivate', archive: 'people.archive', restore: 'people.archive',
};

export function peopleRouter(ctx: DirectoryContext): Router {
  const router = Router();
  const auth = authenticated(ctx);

  router.post('/people', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'people.create');
    const body = parse(newPersonBody, req.body);
    const created = await ctx.db.sql.$transaction(async (tx) => {
      const [account] = await tx.$queryRawUnsafe<{ id: string }[]>('SELECT id::text FROM account WHERE id = $1::uuid AND tenant_id = $2::uuid', body.accountId, caller.tenantId);
      if (!account) throw unknownReference('account', [body.accountId]);
      if (!(await canInAccount(tx, caller, 'people.create', body.accountId))) throw forbidden(`your roles do not give people.create in account ${body.accountId}`);
      const role = body.kind === 'staff' ? await findRole(tx, caller.tenantId, body.roleKey ?? 'staff') : null;
      if (role && role.rank > caller.rank) throw forbidden(`the role ${role.key} ranks above your own`);
      // A salesperson's new client is theirs: otherwise they could not see it (P3).
      const salesperson = body.kind === 'client' && !caller.tenantWide && caller.grants.some((g) => g.scope === 'assigned_clients' && g.permissions.has('people.create'))
        && !caller.grants.some((g) => g.scope !== 'assigned_clients' && g.permissions.has('people.read'));
      return createPersonInTx(tx, caller.tenantId, { ...body, assigneeId: salesperson ? caller.personId : null }, caller.actor);
    });
    ctx.relay.nudge();
    res.status(201).location(`/people/${created.id}`).json(await readPerson(ctx.prisma, caller.tenantId, created.id));
  });

  router.get('/people', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    const query = parse(peopleQuery, req.query, 'query');
    res.json(await searchPeople(ctx.prisma, caller, query));
  });

  router.get('/people/:id', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    const id = parse(uuid, req.params.id, 'params');
    const params: unknown[] = [id, caller.tenantId];
    const condition = personCondition(caller, 'people.read', params);
    const person = await readPerson(ctx.prisma, caller.tenantId, id, { condition, params });
    if (!person) throw notFound(`person ${id}`);
    res.json(person);
  });

  router.patch('/people/:id', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    const id = parse(uuid, req.params.id, 'params');
    const body = parse(profileBody, req.body);
    await ctx.prisma.$transaction(async (tx) => {
      // Everyone may set their own preferences; anything else needs people.edit over the person.
      const ownPreferences = id === caller.personId && Object.keys(body).every((k) => PREFERENCES.has(k));
      if (ownPreferences) await requireVisible(tx, caller, id);
      else {
        requireToken(caller, 'people.edit');
        await requireActOn(tx, caller, 'people.edit', id);
      }
      await updatePerson(tx, caller.tenantId, id, body, caller.actor);
    });
    ctx.relay.nudge();
    res.json(await readPerson(ctx.prisma, caller.tenantId, id));
  });

  for (const action of ['deactivate', 'reactivate', 'archive', 'restore'] as const) {
    router.post(`/people/:id/${action}`, auth, async (req, res) => {
      const caller = await callerOf(ctx, req);
      requireToken(caller, PERMISSION_OF[action]);
      const id = parse(uuid, req.params.id, 'params');
      const body = parse(lifecycleBody, req.body ?? {});
      const result = await changeLifecycle(ctx.db.sql, caller.tenantId, id, { command: { type: action }, ...body }, caller.actor,
        (tx) => requireActOn(tx, caller, PERMISSION_OF[action], id));
      res.status(202).location(`/operations/${result.operationId}`).json(committed(ctx, result));
    });
  }
  return router;
}
