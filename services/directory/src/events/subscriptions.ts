import type { SubscriptionOptions } from '@roster/platform/bus/types';
import type { DirectoryContext } from '../context.js';
import { applyLoginEvent, recordCascadeFact } from '../logins/projection.js';
import { recordImpersonation } from '../logins/impersonations.js';
import { recordClientRequest } from '../audit/client-requests.js';
import { recordCascadeStep } from '../operations/operations.js';
import { invitationAcceptedSubscription } from '../invitations/subscription.js';

/** What the directory consumes. Handlers log and call one command. */
export function directorySubscriptions(ctx: DirectoryContext): Omit<SubscriptionOptions, 'group'>[] {
  return [
    {
      types: ['cascade.step.completed'],
      handler: async (event) => {
        if (event.type !== 'cascade.step.completed') return;
        ctx.logger.debug({ operationId: event.data.operationId, service: event.data.service, step: event.data.step }, 'cascade step');
        await recordCascadeStep(ctx.prisma, event);
      },
    },
    {
      // hasLogin / loginEnabled on people, and the login's history in the audit trail.
      types: ['login.granted', 'login.enabled', 'login.disabled', 'password.reset'],
      handler: async (event) => {
        if (event.type !== 'login.granted' && event.type !== 'login.enabled' && event.type !== 'login.disabled' && event.type !== 'password.reset') return;
        ctx.logger.debug({ personId: event.data.personId, type: event.type }, 'login event');
        await applyLoginEvent(ctx.prisma, event);
      },
    },
    {
      // Effects of cascades in scheduling, on the trail of the person concerned (P9: actor system, operation id).
      types: ['visits.unassigned', 'visits.deleted'],
      handler: async (event) => {
        if (event.type !== 'visits.unassigned' && event.type !== 'visits.deleted') return;
        ctx.logger.debug({ type: event.type, subject: event.subject }, 'cascade fact');
        await recordCascadeFact(ctx.prisma, event);
      },
    },
    {
      // L7, B5: impersonations on the audit trail of both people.
      types: ['impersonation.started', 'impersonation.ended'],
      handler: async (event) => {
        if (event.type !== 'impersonation.started' && event.type !== 'impersonation.ended') return;
        ctx.logger.debug({ type: event.type, impersonationId: event.data.impersonationId }, 'impersonation');
        await recordImpersonation(ctx.prisma, event);
      },
    },
    {
      // S3, P9: a client's request and who answered it, on the client's trail.
      types: ['request.submitted', 'request.approved', 'request.declined'],
      handler: async (event) => {
        if (event.type !== 'request.submitted' && event.type !== 'request.approved' && event.type !== 'request.declined') return;
        ctx.logger.debug({ type: event.type, requestId: event.data.requestId }, 'client request');
        await recordClientRequest(ctx.prisma, event);
      },
    },
    invitationAcceptedSubscription(ctx),
  ];
}
