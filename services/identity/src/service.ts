import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import type { ServiceContext, ServiceDefinition } from '@roster/platform/service';
import { makeClient, type IdentityDb } from './db/client.js';
import { identitySubscriptions } from './events/subscriptions.js';

export type IdentityContext = ServiceContext<IdentityDb>;

export const identityService: ServiceDefinition<IdentityDb> = {
  name: 'identity',
  defaultPort: 4001,
  migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
  makeClient,
  routes: () => Router(),
  subscriptions: identitySubscriptions,
};
