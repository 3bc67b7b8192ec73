/**
 * Why a command refused, in the domain's words (issue 19): domain code raises these and never
 * knows HTTP; the HTTP kit (http/problem.ts) maps the kind to a status and writes problem+json.
 */
export type ErrorKind =
  | 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'gone' | 'conflict' | 'unprocessable' | 'rate_limited'
  /** The system, not the request: a dependency cannot answer now. */
  | 'unavailable';

/** The answer's own members (RFC 9457): an extension may not take their names, whatever carries it. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance']);

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable machine-readable name (the problem type's last segment). */
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    // Refused when the error is made, not when the HTTP kit answers with it (issue 16: a person's
    // state once overwrote `status`).
    const reserved = Object.keys(extensions).filter((k) => RESERVED.has(k));
    if (reserved.length > 0) throw new Error(`problem extensions may not be named ${reserved.join(', ')} (RFC 9457 members)`);
  }

  /** A refusal of what was asked (the caller can act on it), as opposed to the system failing. */
  get isRefusal(): boolean {
    return this.kind !== 'unavailable';
  }
}

export const badRequest = (detail: string, extensions?: Record<string, unknown>) => new DomainError('invalid', 'bad-request', 'Bad request', detail, extensions);
export const notFound = (what: string) => new DomainError('not_found', 'not-found', 'Not found', `${what} does not exist`);
export const unauthorized = (detail: string) => new DomainError('unauthenticated', 'unauthorized', 'Unauthorized', detail);
export const forbidden = (detail: string) => new DomainError('forbidden', 'forbidden', 'Forbidden', detail);
export const conflict = (detail: string, extensions?: Record<string, unknown>) => new DomainError('conflict', 'conflict', 'Conflict', detail, extensions);
