import type { SubscriptionOptions } from '@roster/platform/bus/types';
import type { SchedulingContext } from '../context.js';
import { applySchedulingEvent, CONSUMED_TYPES } from '../people/lifecycle.js';

/** What scheduling consumes (from the catalogue's consumers). Handlers log and call one command. */
export function schedulingSubscriptions(ctx: SchedulingContext): Omit<SubscriptionOptions, 'group'>[] {
  return [
    {
      types: CONSUMED_TYPES,
      handler: async (event) => {
        const handled = await applySchedulingEvent(ctx, event);
        ctx.logger.debug({ eventId: event.id, type: event.type, handled }, handled ? 'event applied' : 'duplicate event ignored');
      },
    },
  ];
}
