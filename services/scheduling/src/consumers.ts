import type { SqlTx } from '@roster/platform/db/database';
import { inBatchesWithoutStep, withoutStep, type Consumers } from '@roster/platform/consumers';
import { personLifecycleEffects } from '@roster/platform/people-projection';
import type { SchedulingContext } from './context.js';
import { schedulingLifecycle } from './people/cascade.js';
import { recordAccessChanges, recordAccount, recordClientAssignment, recordRole } from './people/projection.js';

/** What handling an event needs of the service (the bench drives it without HTTP or bus). */
export type EventHandlingContext = Pick<SchedulingContext, 'logger'>;

/** What scheduling consumes (the catalogue's consumers): one effect per event type, run by the platform in batches. */
export function schedulingConsumers(ctx: EventHandlingContext): Consumers<SqlTx> {
  return {
    service: 'scheduling',
    sqlEffects: {
      ...personLifecycleEffects(schedulingLifecycle(ctx.logger)),
      'access.granted': inBatchesWithoutStep(recordAccessChanges),
      'access.revoked': inBatchesWithoutStep(recordAccessChanges),
      'role.changed': inBatchesWithoutStep(recordAccessChanges),
      'client.assigned': withoutStep(recordClientAssignment),
      'account.created': withoutStep(recordAccount),
      'role.defined': withoutStep(recordRole),
    },
  };
}
