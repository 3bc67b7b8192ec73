import type { EventOf } from '@roster/contracts';
import { inBatches, withoutStep, type Consumers, type EffectReport, type EventHandling } from '@roster/platform/consumers';
import type { SqlTx } from '@roster/platform/db/database';
import { personLifecycleEffects } from '@roster/platform/people-projection';
import type { IdentityContext } from './context.js';
import type { IdentityTx } from './db/client.js';
import { applyInvitationEvent } from './invitations/projection.js';
import { applyLocally } from './logins/manage.js';
import { personLifecycle } from './people/cascade.js';
import { applyAccessChange, applyAccessGrants, applyAccountCreated, applyRoleDefined } from './people/projection.js';
import { announceAccessChange } from './sessions/revoke.js';

type AccessEvent = EventOf<'access.revoked' | 'role.changed'>;

/** What identity consumes (the catalogue's consumers): one effect per event type, run by the platform in batches. */
export function identityConsumers(ctx: IdentityContext): Consumers<IdentityTx> {
  return {
    service: 'identity',
    sqlEffects: {
      ...personLifecycleEffects(personLifecycle(ctx.logger, (revocation) => applyLocally(ctx, revocation))),
      // Memberships: the roles the next tokens carry (cascade table rows "access revoked", "role changed").
      'access.granted': inBatches((events, { tx }) => grantTokenRoles(ctx, tx, events)),
      'access.revoked': (event, handling) => updateTokenRoles(ctx, event, handling),
      'role.changed': (event, handling) => updateTokenRoles(ctx, event, handling),
      'account.created': withoutStep(applyAccountCreated),
      'role.defined': withoutStep(applyRoleDefined),
    },
    // P8: invitations as identity needs them to accept one, on its Prisma models.
    effects: {
      'invitation.created': withoutStep(applyInvitationEvent),
      'invitation.updated': withoutStep(applyInvitationEvent),
      'invitation.withdrawn': withoutStep(applyInvitationEvent),
    },
  };
}

/** New memberships (a bulk grant's run of them in one statement): the next tokens carry the roles; nothing to revoke. */
async function grantTokenRoles(ctx: IdentityContext, tx: SqlTx, events: readonly EventOf<'access.granted'>[]): Promise<EffectReport[]> {
  await applyAccessGrants(tx, events);
  ctx.logger.info({ memberships: events.length, people: new Set(events.map((e) => e.data.personId)).size }, 'memberships granted');
  return events.map(() => ({ step: 'update_token_roles', outcome: 'applied', counts: { membershipsChanged: 1, loginsAffected: 0 }, detail: 'new tokens carry the role' }));
}

async function updateTokenRoles(ctx: IdentityContext, event: AccessEvent, { tx, afterCommit }: EventHandling<SqlTx>) {
  const changed = await applyAccessChange(tx, event);
  const revocation = await announceAccessChange(tx, event.tenantid, event.data.personId);
  if (revocation) afterCommit(() => applyLocally(ctx, revocation));
  ctx.logger.info({ personId: event.data.personId, type: event.type, accountId: event.data.accountId }, 'membership applied');
  return {
    step: 'update_token_roles', outcome: changed > 0 ? 'applied' as const : 'no_change' as const,
    counts: { membershipsChanged: changed, loginsAffected: revocation ? 1 : 0 },
    detail: 'tokens issued before now are refused; new tokens carry the current roles',
  };
}
