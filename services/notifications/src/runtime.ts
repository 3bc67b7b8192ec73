import { randomUUID } from 'node:crypto';
import { parseSealingPrivateKeys } from '@roster/platform/crypto/sealing';
import { WorkLoop } from '@roster/platform/work-loop';
import type { ServiceContext } from '@roster/platform/service';
import type { NotificationsDb } from './db/client.js';
import { messageMetrics } from './messages/metrics.js';
import { providersFrom, type Provider } from './messages/providers.js';
import { MessageSender } from './messages/sender.js';
import { anyEventAwaitingPerson } from './people/awaiting.js';
import { actOnEventsOfKnownPeople } from './reactions/awaited.js';
import { queueDailyReminders, REMINDER_HOUR_UTC } from './subscriptions/reminders.js';

type Ctx = ServiceContext<NotificationsDb>;

/** The background work of one notifications replica: the message sender, the daily reminder job and the events waiting for their person. */
export interface NotificationsRuntime {
  sender: MessageSender;
  /** Acts on events that waited for their person (N1, N3); nudged after commits that created people or left events waiting. */
  eventsAwaitingPerson: WorkLoop;
  /** Queues today's reminders now (the job runs it every minute). */
  queueReminders(now?: Date): Promise<number>;
  stop(): Promise<void>;
}

const runtimes = new WeakMap<Ctx, NotificationsRuntime>();

export function runtimeOf(ctx: Ctx): NotificationsRuntime {
  const runtime = runtimes.get(ctx);
  if (!runtime) throw new Error('the notifications runtime is not started');
  return runtime;
}

/**
 * Starts the sender and the reminder job (once per service instance: the subscriptions need the
 * sender first). The platform stops them as the service's background work, after the consumers
 * and before the outbox relay: whatever they commit is still relayed.
 */
export function startRuntime(ctx: Ctx): NotificationsRuntime {
  const existing = runtimes.get(ctx);
  if (existing) return existing;
  const { config } = ctx;
  const providers = providersFrom(config);
  const sender = new MessageSender({
    db: ctx.prisma,
    transactions: ctx.db.sql,
    logger: ctx.logger,
    metrics: messageMetrics(ctx.metrics.registry),
    providers,
    privateKeys: config.sealingPrivateKeys ? parseSealingPrivateKeys(config.sealingPrivateKeys) : null,
    publicUrl: config.publicUrl,
    workerId: `notifications-${randomUUID().slice(0, 8)}`,
    afterCommit: () => ctx.relay.nudge(),
  });
  const queueReminders = async (now?: Date) => {
    const queued = await queueDailyReminders(ctx.prisma, config.publicUrl, now);
    if (queued > 0) sender.nudge();
    return queued;
  };
  // Once the day's reminders are queued, this replica skips the job until the next day (the
  // unique key would make another run harmless, but it would still scan every subscription).
  let queuedFor = '';
  const reminderTimer = setInterval(() => {
    const now = new Date();
    const day = now.toISOString().slice(0, 10);
    if (day === queuedFor || now.getUTCHours() < REMINDER_HOUR_UTC) return;
    queueReminders(now).then(
      (queued) => {
        queuedFor = day;
        if (queued > 0) ctx.logger.info({ queued, day }, 'daily reminders queued');
      },
      (error: unknown) => ctx.logger.warn({ err: error }, 'daily reminder job failed'),
    );
  }, 60_000);
  reminderTimer.unref();
  const eventsAwaitingPerson = new WorkLoop({
    pass: async () => {
      if (!(await anyEventAwaitingPerson(ctx.prisma))) return 0;
      const told = await ctx.db.sql.$transaction((tx) => actOnEventsOfKnownPeople(tx));
      if (told > 0) {
        sender.nudge();
        ctx.relay.nudge();
      }
      return told;
    },
    onFailure: (error, failures) => ctx.logger.warn({ err: error, failures }, 'acting on events that waited for their person failed; retried'),
    // Nudges do the work; the poll finds what a replica stopped before telling.
    pollIntervalMs: 60_000,
  });
  sender.start();
  eventsAwaitingPerson.start();
  let stopping: Promise<void> | undefined;
  const runtime: NotificationsRuntime = {
    sender,
    eventsAwaitingPerson,
    queueReminders,
    stop: () => (stopping ??= (async () => {
      clearInterval(reminderTimer);
      await eventsAwaitingPerson.stop();
      await sender.stop();
      for (const p of [...providers.email, ...providers.sms] as Provider[]) p.close();
    })()),
  };
  runtimes.set(ctx, runtime);
  ctx.logger.info({ email: providers.email.map((p) => p.name), sms: providers.sms.map((p) => p.name) }, 'message providers (failover order)');
  return runtime;
}
