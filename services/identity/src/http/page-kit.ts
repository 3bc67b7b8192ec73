import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import express, { type Response } from 'express';
import type { IdentityContext } from '../context.js';
import { PAGE_HEADERS } from '../oidc/pages.js';

/** What every hosted page's route needs: send a page with its headers, bind forms to what they are about. */
export interface PageKit {
  send(res: Response, status: number, html: string, formTargets?: string[]): void;
  /** A CSRF token for a form about `subject` (a sign-in's uid, an invitation's token). */
  csrfFor(subject: string): string;
  csrfOk(subject: string, given: unknown): boolean;
  /** Form bodies (small, flat). */
  form: express.RequestHandler;
  tenantName(tenantId: string | null): Promise<string | null>;
}

/** A field of a posted form as a string (empty when absent, too long or holding NUL). */
export const field = (v: unknown, max: number): string => (typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : '');

export function pageKit(ctx: IdentityContext, signingKeyD: string): PageKit {
  const csrfKey = Buffer.from(hkdfSync('sha256', Buffer.from(signingKeyD, 'base64url'), 'roster', 'page-csrf', 32));
  const csrfFor = (subject: string) => createHmac('sha256', csrfKey).update(subject).digest('base64url');
  return {
    send(res, status, html, formTargets = []) {
      for (const [k, v] of Object.entries(PAGE_HEADERS(formTargets))) res.setHeader(k, v);
      res.status(status).type('html').send(html);
    },
    csrfFor,
    csrfOk(subject, given) {
      const expected = Buffer.from(csrfFor(subject));
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
