import { Router } from 'express';
import { z } from 'zod';
import { parse } from '@roster/platform/http/app';
import { badRequest, forbidden, HttpProblem } from '@roster/platform/http/problem';
import { accountsOutOfReach, requireToken, type Caller } from '../access/caller.js';
import type { DirectoryTx } from '../db/client.js';
import { grantAccess, MAX_GRANTS_PER_REQUEST, revokeAccess, type AccessCheck, type Grant } from '../memberships/access.js';
import { findRole } from '../roles/definitions.js';
import type { DirectoryContext } from '../context.js';
import { roleKey } from './people.js';
import { authenticated, callerOf, committed } from './support.js';

const uuid = z.uuid();
// The cap is checked here too, so an oversize list is refused before anything is read.
const capped = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(MAX_GRANTS_PER_REQUEST, `at most ${MAX_GRANTS_PER_REQUEST} grants per request; split the list`);
/** One staff member into many accounts: one role for all (`roleKey`) or one per grant. */
const personAccessBody = z.strictObject({ roleKey: roleKey.optional(), grants: capped(z.strictObject({ accountId: uuid, roleKey: roleKey.optional() })) });
/** Many staff members into one account. */
const accountAccessBody = z.strictObject({ roleKey: roleKey.optional(), grants: capped(z.strictObject({ personId: uuid, roleKey: roleKey.optional() })) });

/** P4 authorization: access.manage in every account touched, and no role (given or replaced) above the caller's rank. */
const accessCheck = (caller: Caller): AccessCheck => async (tx, plan) => {
  const outside = await accountsOutOfReach(tx, caller, 'access.manage', [...new Set(plan.grants.map((g) => g.accountId))]);
  if (outside.length) throw new HttpProblem(403, 'forbidden', 'Forbidden', `your roles do not give access.manage in account(s) ${outside.join(', ')}`, { accountIds: outside });
  for (const g of plan.grants) {
    const replaced = plan.current.get(`${g.personId}/${g.accountId}`);
    for (const key of [g.roleKey, replaced]) {
      if (key && (plan.roles.get(key)?.rank ?? (await findRole(tx, caller.tenantId, key))?.rank ?? 0) > caller.rank) {
        throw forbidden(`the role ${key} ranks above your own`);
      }
    }
  }
};

function roleOf(body: { roleKey?: string | undefined }, grant: { roleKey?: string | undefined }, i: number): string {
  const key = grant.roleKey ?? body.roleKey;
  if (!key) throw badRequest(`grants.${i}.roleKey: give a role per grant or one roleKey for all`);
  return key;
}

export function accessRouter(ctx: DirectoryContext): Router {
  const router = Router();
  const auth = authenticated(ctx);

  router.put('/people/:id/access', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'access.manage');
    const personId = parse(uuid, req.params.id, 'params');
    const body = parse(personAccessBody, req.body);
    const grants: Grant[] = body.grants.map((g, i) => ({ personId, accountId: g.accountId, roleKey: roleOf(body, g, i) }));
    const result = await grantAccess(ctx.db.sql, caller.tenantId, grants, caller.actor, { kind: 'access.person', subjectId: personId, check: accessCheck(caller) });
    res.status(202).location(`/operations/${result.operationId}`).json(committed(ctx, result));
  });

  router.put('/accounts/:id/access', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'access.manage');
    const accountId = parse(uuid, req.params.id, 'params');
    const body = parse(accountAccessBody, req.body);
    const grants: Grant[] = body.grants.map((g, i) => ({ personId: g.personId, accountId, roleKey: roleOf(body, g, i) }));
    const result = await grantAccess(ctx.db.sql, caller.tenantId, grants, caller.actor, { kind: 'access.account', subjectId: accountId, check: accessCheck(caller) });
    res.status(202).location(`/operations/${result.operationId}`).json(committed(ctx, result));
  });

  router.delete('/people/:id/access/:accountId', auth, async (req, res) => {
    const caller = await callerOf(ctx, req);
    requireToken(caller, 'access.manage');
    const personId = parse(uuid, req.params.id, 'params');
    const accountId = parse(uuid, req.params.accountId, 'params');
    const result = await revokeAccess(ctx.prisma, caller.tenantId, personId, accountId, caller.actor, async (tx: DirectoryTx, m) => {
      await accessCheck(caller)(tx, { grants: [{ personId, accountId, roleKey: m.roleKey }], current: new Map(), roles: new Map() });
    });
    res.status(202).location(`/operations/${result.operationId}`).json(committed(ctx, result));
  });
  return router;
}
