import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import type { ServiceContext, ServiceDefinition } from '@roster/platform/service';
import { makeClient, type DirectoryDb } from './db/client.js';
import { directorySubscriptions } from './events/subscriptions.js';
import { operationsRouter } from './http/operations.js';
import { peopleRouter } from './http/people.js';

export type DirectoryContext = ServiceContext<DirectoryDb>;

export const directoryService: ServiceDefinition<DirectoryDb> = {
  name: 'directory',
  defaultPort: 4002,
  migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
  makeClient,
  routes: (ctx) => Router().use(peopleRouter(ctx)).use(operationsRouter(ctx)),
  subscriptions: directorySubscriptions,
};
