import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { PLATFORM_MIGRATIONS } from '@roster/platform/db/platform-migrations';
import type { ServiceDefinition } from '@roster/platform/service';
import { makeClient, type DirectoryDb, type DirectoryTx } from './db/client.js';
import { directoryConsumers } from './consumers.js';
import { invitationsRouter } from './http/invitations.js';
import { accessRouter } from './http/access.js';
import { auditRouter } from './http/audit.js';
import { directoryRouter } from './http/directory.js';
import { peopleRouter } from './http/people.js';
import { scimRouter } from './http/scim.js';

export type { DirectoryContext } from './context.js';

export const directoryService: ServiceDefinition<DirectoryDb, DirectoryTx> = {
  name: 'directory',
  defaultPort: 4002,
  migrationFolders: [PLATFORM_MIGRATIONS.messaging, fileURLToPath(new URL('../prisma/migrations', import.meta.url))],
  makeClient,
  routes: (ctx) => Router()
    .use(directoryRouter(ctx))
    .use(peopleRouter(ctx))
    .use(accessRouter(ctx))
    .use(auditRouter(ctx))
    .use(invitationsRouter(ctx))
    .use(scimRouter(ctx)),
  consumers: directoryConsumers,
};
