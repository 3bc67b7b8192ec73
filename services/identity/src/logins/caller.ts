import type { Actor } from '@roster/contracts';
import type { Principal } from '@roster/platform/auth/claims';

/** Who asks: a person with a token, or the operator channel acting on one tenant. */
export type Caller =
  | { kind: 'person'; tenantId: string; principal: Principal }
  | { kind: 'operator'; tenantId: string };

/** The actor events carry: both people when an admin acts through impersonation (B5). */
export function actorOf(caller: Caller): Actor {
  if (caller.kind === 'operator') return { kind: 'operator', personId: null, impersonatorId: null };
  return { kind: 'person', personId: caller.principal.personId, impersonatorId: caller.principal.impersonatorId };
}

export const personCaller = (principal: Principal): Caller => ({ kind: 'person', tenantId: principal.tenantId, principal });
