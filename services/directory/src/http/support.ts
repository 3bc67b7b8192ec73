import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ALL_PERMISSIONS, type RosterEvent } from '@roster/contracts';
import type { Principal } from '@roster/platform/auth/claims';
import { principalOf } from '@roster/platform/auth/middleware';
import { revokeLocally } from '@roster/platform/auth/revocation-feed';
import { operatorTenant } from '@roster/platform/http/app';
import { loadCaller, type Caller } from '../access/caller.js';
import type { DirectoryContext } from '../context.js';

const OPERATOR_PERSON = '00000000-0000-0000-0000-000000000000';

/**
 * Bearer token (ctx.auth.required) on every directory endpoint. The operator channel
 * (`x-operator-key` + `x-roster-tenant`, no Authorization header) is still accepted and acts as
 * the tenant's operator: everything in that tenant, audited as `operator`.
 */
export function authenticated(ctx: DirectoryContext): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.get('authorization') && req.get('x-operator-key')) {
      try {
        const tenantId = operatorTenant(req, ctx.config.operatorKey);
        req.principal = operatorPrincipal(tenantId);
        return next();
      } catch (error) {
        return next(error);
      }
    }
    return ctx.auth.required(req, res, next);
  };
}

const operatorPrincipal = (tenantId: string): Principal => ({
  personId: OPERATOR_PERSON, tenantId, kind: 'staff', roles: ['owner'], permissions: new Set(ALL_PERMISSIONS),
  sessionId: 'operator', tokenId: 'operator', passwordChangeRequired: false, impersonatorId: null, issuedAtMs: Date.now(),
  expiresAt: new Date(Date.now() + 60_000),
});

/** Who calls, with their memberships: what they may do where (access/caller.ts). */
export async function callerOf(ctx: DirectoryContext, req: Request): Promise<Caller> {
  const principal = principalOf(req);
  const caller = await loadCaller(ctx.prisma, principal);
  if (principal.personId === OPERATOR_PERSON) caller.actor = { kind: 'operator', personId: null, impersonatorId: null };
  return caller;
}

/**
 * After a command committed: the relay nudged, and what its events revoke refused at once by this
 * replica (the directory produced them; the other services learn of them from the bus). Returns
 * the command's answer without its events.
 */
export function committed<R extends { events: readonly RosterEvent[] }>(ctx: DirectoryContext, result: R): Omit<R, 'events'> {
  ctx.relay.nudge();
  const { events, ...answer } = result;
  revokeLocally(ctx.auth.notBefore, events, (reason) => ctx.metrics.revocations(reason));
  return answer;
}
