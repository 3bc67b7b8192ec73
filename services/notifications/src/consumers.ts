import type { RosterEvent } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { inBatches, inBatchesWithoutStep, withoutStep, type Consumers, type Effect } from '@roster/platform/consumers';
import { personLifecycleEffects } from '@roster/platform/people-projection';
import type { NotificationsContext } from './context.js';
import { queuedMessagesIn } from './messages/enqueue.js';
import { notificationsLifecycle } from './people/cascade.js';
import { eventsLeftAwaitingPersonIn } from './people/awaiting.js';
import { peopleCreatedIn, recordAccount } from './people/projection.js';
import { reactToAccessGrants, reactToAccessRevoked, reactToRoleChange } from './reactions/access.js';
import { queueCredentials } from './reactions/credentials.js';
import { queueInvitation } from './reactions/invitations.js';
import { stepOf, type Reaction } from './reactions/react.js';
import { tellClientOfAnswer, tellMonitorsOfRequest } from './reactions/requests.js';
import { sendDailySchedule, tellManagersVisitsNeedSitter } from './reactions/visits.js';
import { startRuntime } from './runtime.js';

/** An effect that queues messages: its step, when the catalogue expects one (B4). */
const reaction = <E extends RosterEvent>(react: (tx: SqlTx, event: E) => Promise<Reaction>): Effect<SqlTx, E> =>
  async (event, { tx }) => stepOf(await react(tx, event));

/**
 * What notifications consumes (the catalogue's consumers): one effect per event type, run by the
 * platform in batches; the messages an effect queues commit with its inbox claim, and the sender
 * is woken after each batch.
 */
export function notificationsConsumers(ctx: NotificationsContext): Consumers<SqlTx> {
  const runtime = startRuntime(ctx);
  const { publicUrl, schedulingPublicUrl } = ctx.config;
  return {
    service: 'notifications',
    sqlEffects: {
      ...personLifecycleEffects(notificationsLifecycle(ctx.logger)),
      'login.granted': inBatches(async (events, { tx }) => (await queueCredentials(tx, events, publicUrl)).map(stepOf)),
      'password.reset': inBatches(async (events, { tx }) => (await queueCredentials(tx, events, publicUrl)).map(stepOf)),
      'access.granted': inBatchesWithoutStep(reactToAccessGrants),
      'access.revoked': reaction(reactToAccessRevoked),
      'role.changed': reaction(reactToRoleChange),
      'account.created': withoutStep(recordAccount),
      'invitation.created': reaction(queueInvitation),
      'visits.unassigned': reaction(tellManagersVisitsNeedSitter),
      'schedule.digest': reaction(sendDailySchedule),
      'request.submitted': reaction((tx, event) => tellMonitorsOfRequest(tx, event, schedulingPublicUrl)),
      'request.approved': reaction(tellClientOfAnswer),
      'request.declined': reaction(tellClientOfAnswer),
    },
    onCommitted: (tx) => {
      if (queuedMessagesIn(tx)) runtime.sender.nudge();
      if (peopleCreatedIn(tx) || eventsLeftAwaitingPersonIn(tx)) runtime.eventsAwaitingPerson.nudge();
    },
  };
}
