import { HttpProblem } from '@roster/platform/http/problem';

/** A body names something that does not exist in the caller's tenant (400, never revealing other tenants). */
export const unknownReference = (what: 'account' | 'role' | 'person', ids: readonly string[]) =>
  new HttpProblem(400, `unknown-${what}`, `Unknown ${what}`, `no ${what} ${ids.join(', ')} in this tenant`, { [`unknown${what[0]!.toUpperCase()}${what.slice(1)}s`]: ids });
