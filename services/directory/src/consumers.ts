import { inBatchesWithoutStep, withoutStep, type Consumers } from '@roster/platform/consumers';
import type { DirectoryContext } from './context.js';
import type { DirectoryTx } from './db/client.js';
import { recordClientRequest } from './audit/client-requests.js';
import { acceptInvitation } from './invitations/accepted.js';
import { recordImpersonation } from './logins/impersonations.js';
import { applyLoginEvent, recordCascadeFact } from './logins/projection.js';
import { recordCascadeSteps } from './operations/operations.js';

/** What the directory consumes (the catalogue's consumers): one effect per event type, run by the platform in batches. */
export function directoryConsumers(ctx: DirectoryContext): Consumers<DirectoryTx> {
  return {
    service: 'directory',
    sqlEffects: {
      // B4: every service's steps, under their operation.
      'cascade.step.completed': inBatchesWithoutStep(recordCascadeSteps),
      // hasLogin / loginEnabled on people, and the login's history in the audit trail.
      'login.granted': withoutStep(applyLoginEvent),
      'login.enabled': withoutStep(applyLoginEvent),
      'login.disabled': withoutStep(applyLoginEvent),
      'password.reset': withoutStep(applyLoginEvent),
      // Effects of cascades in scheduling, on the trail of the person concerned (P9: actor system, operation id).
      'visits.unassigned': withoutStep(recordCascadeFact),
      'visits.deleted': withoutStep(recordCascadeFact),
      // L7, B5: impersonations on the audit trail of both people.
      'impersonation.started': withoutStep(recordImpersonation),
      'impersonation.ended': withoutStep(recordImpersonation),
      // S3, P9: a client's request and who answered it, on the client's trail.
      'request.submitted': withoutStep(recordClientRequest),
      'request.approved': withoutStep(recordClientRequest),
      'request.declined': withoutStep(recordClientRequest),
    },
    effects: {
      // P8: identity's `invitation.accepted` → the person joins the account (or is created), through
      // the directory's own commands on its Prisma models.
      'invitation.accepted': async (event, { tx }) => {
        ctx.logger.info({ invitationId: event.data.invitationId, personId: event.data.personId, newPerson: event.data.newPerson }, 'invitation accepted');
        return acceptInvitation(tx, event);
      },
    },
  };
}
