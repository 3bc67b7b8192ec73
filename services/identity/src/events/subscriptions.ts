import type { RosterEvent } from '@roster/contracts';
import type { SubscriptionOptions } from '@roster/platform/bus/types';
import { claimInbox } from '@roster/platform/inbox';
import { applyPersonLifecycleEvent, isPersonEvent, PERSON_EVENT_TYPES } from '@roster/platform/people-projection';
import { recordStep } from '@roster/platform/steps';
import type { IdentityContext } from '../context.js';
import type { IdentityTx } from '../db/client.js';
import { personLifecycle } from '../people/cascade.js';
import { applyAccessChange, applyAccountCreated, applyRoleDefined } from '../people/projection.js';
import { applyInvitationEvent } from '../invitations/projection.js';
import { announceAccessChange, type Revocation } from '../sessions/revoke.js';
import { applyLocally } from '../logins/manage.js';

const SERVICE = 'identity';

/** What identity consumes (the catalogue's consumers). Handlers log and call one command. */
export function identitySubscriptions(ctx: IdentityContext): Omit<SubscriptionOptions, 'group'>[] {
  /** One inbox-guarded transaction per event; identity's own revocations apply locally after commit. */
  const inTransaction = (work: (tx: IdentityTx, event: RosterEvent, started: number) => Promise<Revocation | null | void>) =>
    async (event: RosterEvent): Promise<void> => {
      const started = performance.now();
      const revocation = await ctx.prisma.$transaction(async (tx) => {
        if (!(await claimInbox(tx, SERVICE, event))) return null;
        return (await work(tx, event, started)) ?? null;
      });
      applyLocally(ctx, revocation);
    };

  const lifecycle = personLifecycle(ctx.logger);
  const lifecycleEvent = inTransaction(async (tx, event, started) => {
    if (event.type !== 'cascade.preview_requested' && !isPersonEvent(event)) return null;
    const s = await applyPersonLifecycleEvent(tx, lifecycle, event, started);
    if (!s) return null;
    ctx.logger.info({ personId: event.data.personId, type: event.type, step: s.step, counts: s.counts }, 'person event applied');
    return s.revocation ?? null;
  });

  // Memberships: the roles the next tokens carry (cascade table rows "access revoked", "role changed").
  const accessChange = inTransaction(async (tx, event, started) => {
    if (event.type !== 'access.granted' && event.type !== 'access.revoked' && event.type !== 'role.changed') return null;
    const changed = await applyAccessChange(tx, event);
    const revocation = event.type === 'access.granted' ? null : await announceAccessChange(tx, event.tenantid, event.data.personId);
    ctx.logger.info({ personId: event.data.personId, type: event.type, accountId: event.data.accountId }, 'membership applied');
    await recordStep(tx, {
      service: SERVICE, step: 'update_token_roles', outcome: changed > 0 ? 'applied' : 'no_change',
      counts: { membershipsChanged: changed, loginsAffected: revocation ? 1 : 0 }, startedAt: started, cause: event,
      detail: event.type === 'access.granted' ? 'new tokens carry the role' : 'tokens issued before now are refused; new tokens carry the current roles',
    });
    return revocation;
  });

  const projections = inTransaction(async (tx, event) => {
    if (event.type === 'account.created') await applyAccountCreated(tx, event);
    else if (event.type === 'role.defined') await applyRoleDefined(tx, event);
    else if (event.type === 'invitation.created' || event.type === 'invitation.updated' || event.type === 'invitation.withdrawn') {
      await applyInvitationEvent(tx, event);
    }
    return null;
  });

  const handlers: [readonly string[], (event: RosterEvent) => Promise<void>][] = [
    [[...PERSON_EVENT_TYPES, 'cascade.preview_requested'], lifecycleEvent],
    [['access.granted', 'access.revoked', 'role.changed'], accessChange],
    [['account.created', 'role.defined', 'invitation.created', 'invitation.updated', 'invitation.withdrawn'], projections],
  ];
  const byType = new Map(handlers.flatMap(([types, handler]) => types.map((t) => [t, handler] as const)));
  // One subscription for everything: on Kafka a service's group must subscribe every member to
  // the same topics, or partitions are assigned to a consumer that ignores them.
  return [{
    types: [...byType.keys()] as RosterEvent['type'][],
    handler: async (event) => {
      await byType.get(event.type)?.(event);
    },
  }];
}
