import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import type { ServiceContext, ServiceDefinition } from '@roster/platform/service';
import { makeClient, type NotificationsDb } from './db/client.js';
import { notificationsSubscriptions } from './events/subscriptions.js';

export type NotificationsContext = ServiceContext<NotificationsDb>;

export const notificationsService: ServiceDefinition<NotificationsDb> = {
  name: 'notifications',
  defaultPort: 4004,
  migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
  makeClient,
  routes: () => Router(),
  subscriptions: notificationsSubscriptions,
};
