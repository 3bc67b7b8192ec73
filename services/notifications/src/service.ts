import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { PLATFORM_MIGRATIONS } from '@roster/platform/db/platform-migrations';
import type { ServiceDefinition } from '@roster/platform/service';
import { makeClient, type NotificationsDb } from './db/client.js';
import { notificationsConsumers } from './consumers.js';
import { callbacksRouter } from './http/callbacks.js';
import { messagesRouter } from './http/messages.js';
import { monitorsRouter } from './http/monitors.js';
import { subscriptionsRouter } from './http/subscriptions.js';
import { templatesRouter } from './http/templates.js';
import { startRuntime } from './runtime.js';

export type { NotificationsContext } from './context.js';

export const notificationsService: ServiceDefinition<NotificationsDb> = {
  name: 'notifications',
  defaultPort: 4004,
  migrationFolders: [PLATFORM_MIGRATIONS.messaging, PLATFORM_MIGRATIONS.personProjection, fileURLToPath(new URL('../prisma/migrations', import.meta.url))],
  makeClient,
  routes: (ctx) => Router()
    .use(messagesRouter(ctx))
    .use(templatesRouter(ctx))
    .use(subscriptionsRouter(ctx))
    .use(monitorsRouter(ctx))
    .use(callbacksRouter(ctx)),
  consumers: notificationsConsumers,
  background: startRuntime,
};
