import type { SqlTx } from '@roster/platform/db/database';
import type { Consumers, EventHandling } from '@roster/platform/consumers';
import { personLifecycleEffects } from '@roster/platform/people-projection';
import type { SchedulingContext } from './context.js';
import { schedulingLifecycle } from './people/cascade.js';
import { recordAccessChange, recordAccount, recordClientAssignment, recordRole } from './people/projection.js';

/** What handling an event needs of the service (the bench drives it without HTTP or bus). */
export type EventHandlingContext = Pick<SchedulingContext, 'logger'>;

const projection = <E>(record: (tx: SqlTx, event: E) => Promise<void>) => async (event: E, { tx }: EventHandling<SqlTx>) => {
  await record(tx, event);
};

/** What scheduling consumes (the catalogue's consumers): one effect per event type, run by the platform in batches. */
export function schedulingConsumers(ctx: EventHandlingContext): Consumers<SqlTx> {
  return {
    service: 'scheduling',
    sqlEffects: {
      ...personLifecycleEffects(schedulingLifecycle(ctx.logger)),
      'access.granted': projection(recordAccessChange),
      'access.revoked': projection(recordAccessChange),
      'role.changed': projection(recordAccessChange),
      'client.assigned': projection(recordClientAssignment),
      'account.created': projection(recordAccount),
      'role.defined': projection(recordRole),
    },
  };
}
