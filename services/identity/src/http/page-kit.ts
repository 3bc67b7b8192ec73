import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import express, { type Response } from 'express';
import { DomainError } from '@roster/platform/errors';
import { statusOf } from '@roster/platform/http/problem';
import type { IdentityContext } from '../context.js';
import { PAGE_HEADERS } from '../oidc/pages.js';

/** What every hosted page's route needs: send a page with its headers, bind forms to what they are about. */
export interface PageKit {
  send(res: Response, status: number, html: string, formTargets?: string[]): void;
  /** An HMAC of `value` under the pages' key: CSRF tokens (a sign-in's uid, an invitation's token) and signed cookies. */
  mac(value: string): string;
  /** Whether `given` is `mac(value)`, compared in constant time. */
  macOk(value: string, given: unknown): boolean;
  /** Form bodies (small, flat). */
  form: express.RequestHandler;
  tenantName(tenantId: string | null): Promise<string | null>;
}

/** A field of a posted form as a string (empty when absent, too long or holding NUL). */
export const field = (v: unknown, max: number): string => (typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : '');

export const WRONG_CREDENTIALS = 'The username or the password is wrong.';

/**
 * What a page says when a sign-in is refused (L8: one message for a wrong username or password);
 * anything that is not a refusal (a 5xx, a bug) is thrown on, never shown.
 */
export function refusalOnPage(error: unknown): { status: number; message: string } {
  if (!(error instanceof DomainError) || !error.isRefusal) throw error;
  if (error.kind === 'rate_limited') return { status: 429, message: 'Too many attempts. Wait a few minutes, then try again.' };
  if (error.slug === 'invalid-credentials') return { status: 401, message: WRONG_CREDENTIALS };
  return { status: statusOf(error), message: error.detail ?? error.title };
}

export function pageKit(ctx: IdentityContext, signingKeyD: string): PageKit {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(signingKeyD, 'base64url'), 'roster', 'page-csrf', 32));
  const mac = (value: string) => createHmac('sha256', key).update(value).digest('base64url');
  return {
    send(res, status, html, formTargets = []) {
      for (const [k, v] of Object.entries(PAGE_HEADERS(formTargets))) res.setHeader(k, v);
      res.status(status).type('html').send(html);
    },
    mac,
    macOk(value, given) {
      const expected = Buffer.from(mac(value));
      const actual = Buffer.from(typeof given === 'string' ? given : '');
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
    form: express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
    async tenantName(tenantId) {
      if (!tenantId) return null;
      const [root] = await ctx.prisma.$queryRawUnsafe<{ name: string }[]>(
        `SELECT name FROM account_projection WHERE tenant_id = $1::uuid AND parent_id IS NULL ORDER BY name LIMIT 1`, tenantId,
      );
      return root?.name ?? null;
    },
  };
}
