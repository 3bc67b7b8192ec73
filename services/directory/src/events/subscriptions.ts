import type { SubscriptionOptions } from '@roster/platform/bus/types';
import type { DirectoryContext } from '../service.js';
import { recordCascadeStep } from '../operations/operations.js';

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
  ];
}
