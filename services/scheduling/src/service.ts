import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import type { ServiceContext, ServiceDefinition } from '@roster/platform/service';
import { makeClient, type SchedulingDb } from './db/client.js';
import { schedulingSubscriptions } from './events/subscriptions.js';
import { clientsRouter } from './http/clients.js';
import { schedulesRouter } from './http/schedules.js';
import { visitsRouter } from './http/visits.js';
import { startScheduledJobs } from './jobs.js';

export type SchedulingContext = ServiceContext<SchedulingDb>;

export const schedulingService: ServiceDefinition<SchedulingDb> = {
  name: 'scheduling',
  defaultPort: 4003,
  migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
  makeClient,
  routes: (ctx) => {
    // The platform has no start/stop hook for a service's own periodic work: routes() runs once
    // at start, and the jobs stop (finishing a run in progress) before the database closes.
    const jobs = startScheduledJobs(ctx);
    const closeDatabase = ctx.db.close.bind(ctx.db);
    ctx.db.close = async () => {
      await jobs.stop();
      await closeDatabase();
    };
    return Router().use(visitsRouter(ctx)).use(schedulesRouter(ctx)).use(clientsRouter(ctx));
  },
  subscriptions: schedulingSubscriptions,
};
