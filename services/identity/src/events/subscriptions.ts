import type { RosterEvent } from '@roster/contracts';
import type { SubscriptionOptions } from '@roster/platform/bus/types';
import { claimInbox } from '@roster/platform/inbox';
import { advancePersonProjection, PERSON_EVENT_TYPES, type PersonEvent } from '@roster/platform/people-projection';
import { recordStep } from '@roster/platform/steps';
import type { IdentityContext } from '../service.js';
import type { IdentityTx } from '../db/client.js';
import { previewPersonEvent, reactToPersonEvent } from '../people/cascade.js';
import { applyAccessChange, applyAccountCreated, applyProfile, applyRoleDefined } from '../people/projection.js';
import { applyInvitationEvent } from '../invitations/projection.js';
import { announceAccessChange, type Revocation } from '../sessions/revoke.js';
import { applyLocally } from '../logins/manage.js';

const SERVICE = 'identity';
/** The step each lifecycle event is reported under, also when a stale one is ignored. */
const STEP_OF: Partial<Record<string, string>> = {
  'user.deactivated': 'refuse_logins', 'user.archived': 'make_password_unusable',
  'user.reactivated': 'keep_login_as_is', 'user.restored': 'require_new_password',
};

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

  const personLifecycle = inTransaction(async (tx, event, started) => {
    if (event.type === 'cascade.preview_requested') {
      const s = await previewPersonEvent(tx, event);
      await recordStep(tx, { service: SERVICE, step: s.step, outcome: 'previewed', counts: s.counts, startedAt: started, cause: event, dryRun: true });
      return null;
    }
    const personEvent = event as PersonEvent;
    const fresh = await advancePersonProjection(tx, personEvent);
    if (personEvent.type === 'user.created' || personEvent.type === 'user.updated') {
      await applyProfile(tx, personEvent);
      return null;
    }
    if (!fresh) {
      ctx.logger.info({ eventId: event.id, type: event.type, version: event.subjectversion }, 'stale person event ignored');
      await recordStep(tx, {
        service: SERVICE, step: STEP_OF[personEvent.type] ?? 'person_lifecycle', outcome: 'stale_ignored', counts: {}, startedAt: started, cause: event,
        detail: 'a newer version of the person was already applied',
      });
      return null;
    }
    const s = await reactToPersonEvent(tx, personEvent);
    if (!s) return null;
    ctx.logger.info({ personId: personEvent.data.personId, type: event.type, step: s.step, counts: s.counts }, 'person event applied');
    const touched = Object.values(s.counts).some((n) => n > 0);
    await recordStep(tx, { service: SERVICE, step: s.step, outcome: touched ? 'applied' : 'no_change', counts: s.counts, startedAt: started, cause: event, detail: s.detail ?? null });
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
    [[...PERSON_EVENT_TYPES, 'cascade.preview_requested'], personLifecycle],
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
