import type { ZodError } from 'zod';

const RFC9457_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance']);

/** An RFC 9457 problem. Throw it from a handler; the error middleware answers with it. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    const reserved = Object.keys(extensions).filter((k) => RFC9457_MEMBERS.has(k));
    if (reserved.length > 0) throw new Error(`problem extensions may not be named ${reserved.join(', ')} (RFC 9457 members)`);
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

export const badRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new HttpProblem(400, 'bad-request', 'Bad request', detail, extensions);
export const notFound = (what: string) => new HttpProblem(404, 'not-found', 'Not found', `${what} does not exist`);
export const unauthorized = (detail: string) => new HttpProblem(401, 'unauthorized', 'Unauthorized', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'forbidden', 'Forbidden', detail);
export const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new HttpProblem(409, 'conflict', 'Conflict', detail, extensions);

/** A zod failure as a 400 listing every invalid field (`errors: [{path, message}]`). */
export function validationProblem(error: ZodError, where: 'body' | 'query' | 'params'): HttpProblem {
  const errors = error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  return new HttpProblem(400, 'validation', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}
