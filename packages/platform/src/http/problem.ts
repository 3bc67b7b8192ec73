import type { ZodError } from 'zod';
import { DomainError, type ErrorKind } from '../errors.js';

const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, gone: 410, conflict: 409, unprocessable: 422, rate_limited: 429, unavailable: 503,
};
const KIND_OF = new Map(Object.entries(STATUS_OF).map(([kind, status]) => [status, kind as ErrorKind]));

/** The HTTP status of a domain error (an HttpProblem keeps its own). */
export const statusOf = (error: DomainError): number => (error instanceof HttpProblem ? error.status : STATUS_OF[error.kind]);

/**
 * An RFC 9457 problem: what the HTTP kit answers for a domain error, and what a router throws for
 * what only HTTP knows (a bad header, a body too large).
 */
export class HttpProblem extends DomainError {
  constructor(
    readonly status: number,
    slug: string,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(KIND_OF.get(status) ?? (status >= 500 ? 'unavailable' : 'invalid'), slug, title, detail, extensions);
  }

  /** The problem a domain error is answered with. */
  static of(error: DomainError): HttpProblem {
    return error instanceof HttpProblem ? error : new HttpProblem(statusOf(error), error.slug, error.title, error.detail, error.extensions);
  }

  /**
   * The document. RFC 9457's members (`type`, `title`, `status` — the HTTP status —, `detail`,
   * `instance`) always win over extensions of the same name (issue 16: a person's state once
   * overwrote `status`); an extension so named is refused when the problem is made.
   */
  toJSON(instance?: string): Record<string, unknown> {
    return {
      ...this.extensions,
      type: `https://roster.dev/problems/${this.slug}`,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
    };
  }
}

// Routers use the same refusals as the domain.
export { badRequest, conflict, forbidden, notFound, unauthorized } from '../errors.js';

/** A zod failure as a 400 listing every invalid field (`errors: [{path, message}]`). */
export function validationProblem(error: ZodError, where: 'body' | 'query' | 'params'): HttpProblem {
  const errors = error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  return new HttpProblem(400, 'validation', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}
