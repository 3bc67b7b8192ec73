import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { PLATFORM_MIGRATIONS } from '@roster/platform/db/platform-migrations';
import type { ServiceDefinition } from '@roster/platform/service';
import { makeClient, type SchedulingDb } from './db/client.js';
import { schedulingConsumers } from './consumers.js';
import { clientsRouter } from './http/clients.js';
import { requestsRouter } from './http/requests.js';
import { schedulesRouter } from './http/schedules.js';
import { visitsRouter } from './http/visits.js';
import { startScheduledJobs } from './jobs.js';

export type { SchedulingContext } from './context.js';

export const schedulingService: ServiceDefinition<SchedulingDb> = {
  name: 'scheduling',
  defaultPort: 4003,
  migrationFolders: [PLATFORM_MIGRATIONS.messaging, PLATFORM_MIGRATIONS.personProjection, fileURLToPath(new URL('../prisma/migrations', import.meta.url))],
  makeClient,
  routes: (ctx) => Router().use(visitsRouter(ctx)).use(schedulesRouter(ctx)).use(clientsRouter(ctx)).use(requestsRouter(ctx)),
  // The horizon extension and the daily digests; a run in progress finishes before the database closes.
  background: startScheduledJobs,
  consumers: schedulingConsumers,
};
