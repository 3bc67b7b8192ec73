import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { principalOf } from '@roster/platform/auth/middleware';
import { operatorTenant } from '@roster/platform/http/app';
import type { IdentityContext } from '../context.js';
import { personCaller, type Caller } from '../logins/caller.js';

/**
 * Routes the operator may also call (a tenant owner's login): a bearer token, or the operator
 * headers when no Authorization header is sent (as the directory does).
 */
export function personOrOperator(ctx: IdentityContext): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.get('authorization') && req.get('x-operator-key') !== undefined) {
      try {
        res.locals['operatorTenant'] = operatorTenant(req, ctx.config.operatorKey);
        return next();
      } catch (error) {
        return next(error);
      }
    }
    return ctx.auth.required(req, res, next);
  };
}

export function callerOf(req: Request, res: Response): Caller {
  const tenant = res.locals['operatorTenant'] as string | undefined;
  if (tenant) return { kind: 'operator', tenantId: tenant };
  return personCaller(principalOf(req));
}

/**
 * The client's address for throttling (L8): the peer's address, or behind the proxies TRUST_PROXY
 * trusts (an ingress) the client they name in X-Forwarded-For; the header is ignored otherwise.
 */
export const clientAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
