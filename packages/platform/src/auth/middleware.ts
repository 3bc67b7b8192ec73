import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Permission } from '@roster/contracts';
import { DomainError, forbidden, unauthorized } from '../errors.js';
import type { Principal } from './claims.js';
import type { TokenVerifier } from './verifier.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate`: who the bearer token speaks for. */
    principal?: Principal;
  }
}

export interface AuthenticateOptions {
  /** Accept a token whose temporary password must still be changed (only `PUT /password`, `GET /me`). */
  allowPasswordChange?: boolean;
}

export const passwordChangeRequired = () =>
  new DomainError('forbidden', 'password-change-required', 'Password change required', 'this login used a temporary password: set a new one with PUT /password first');

/** Reads `Authorization: Bearer <jwt>` and verifies it locally (rule 7); 401 problem+json otherwise. */
export function authenticate(verifier: TokenVerifier, options: AuthenticateOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    if (!header) return next(unauthorized('missing credentials: send Authorization: Bearer <token>'));
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match) return next(unauthorized('the Authorization header must be "Bearer <token>"'));
    verifier.verify(match[1]!).then(
      (principal) => {
        if (principal.passwordChangeRequired && !options.allowPasswordChange) return next(passwordChangeRequired());
        req.principal = principal;
        res.setHeader('x-roster-person', principal.personId);
        next();
      },
      (error: unknown) => {
        if (error instanceof DomainError) res.setHeader('www-authenticate', `Bearer error="invalid_token", error_description="${error.detail ?? error.title}"`);
        next(error);
      },
    );
  };
}

/** The caller of a route behind `authenticate`. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized('missing credentials: send Authorization: Bearer <token>');
  return req.principal;
}

export const hasPermission = (p: Principal, permission: Permission): boolean => p.permissions.has(permission);

/** 403 unless the caller's roles carry `permission` (rule 8: decided locally from the token). */
export function requirePermission(p: Principal, permission: Permission): void {
  if (!hasPermission(p, permission)) throw forbidden(`this needs the permission ${permission}, which your roles do not grant`);
}

/** Some things an impersonation token may never do (B5): grant logins, impersonate further, change passwords. */
export function refuseImpersonation(p: Principal, what: string): void {
  if (p.impersonatorId) throw forbidden(`${what} is not allowed while acting as another user`);
}
