import { DomainError } from '@roster/platform/errors';

/** A command names something that does not exist in the caller's tenant (invalid, never revealing other tenants). */
export const unknownReference = (what: 'account' | 'role' | 'person', ids: readonly string[]) =>
  new DomainError('invalid', `unknown-${what}`, `Unknown ${what}`, `no ${what} ${ids.join(', ')} in this tenant`, { [`unknown${what[0]!.toUpperCase()}${what.slice(1)}s`]: ids });
