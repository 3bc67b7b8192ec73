import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { PLATFORM_MIGRATIONS } from '@roster/platform/db/platform-migrations';
import type { ServiceDefinition } from '@roster/platform/service';
import { makeClient, type IdentityDb, type IdentityTx } from './db/client.js';
import { identityConsumers } from './consumers.js';
import { discoveryRouter } from './http/discovery.js';
import { impersonationsRouter } from './http/impersonations.js';
import { invitationsRouter } from './http/invitations.js';
import { loginsRouter } from './http/logins.js';
import { sessionsRouter } from './http/sessions.js';
import { pagesRouter } from './http/signin.js';
import { oauthClientsRouter } from './http/oauth-clients.js';
import { rememberOpenIdProvider } from './oidc/sessions.js';
import { warmPasswordHashing } from './passwords/hashing.js';
import { startImpersonationExpiry } from './impersonation/expiry.js';
import { startRetention } from './sessions/retention.js';

export type { IdentityContext } from './context.js';

export const identityService: ServiceDefinition<IdentityDb, IdentityTx> = {
  name: 'identity',
  defaultPort: 4001,
  migrationFolders: [PLATFORM_MIGRATIONS.messaging, PLATFORM_MIGRATIONS.personProjection, fileURLToPath(new URL('../prisma/migrations', import.meta.url))],
  makeClient,
  routes: (ctx) => {
    void warmPasswordHashing();
    return Router()
      .use(discoveryRouter(ctx))
      .use(sessionsRouter(ctx))
      .use(loginsRouter(ctx))
      .use(impersonationsRouter(ctx))
      .use(invitationsRouter(ctx))
      .use(oauthClientsRouter(ctx));
  },
  // The OpenID Provider and the hosted pages take form posts: mounted before the JSON kit.
  pages: (ctx) => {
    const { router, provider } = pagesRouter(ctx);
    rememberOpenIdProvider(ctx, provider);
    return router;
  },
  // Ended sessions, their refresh tokens and stale login failures are deleted periodically (issue 4);
  // expired impersonations are recorded as ended (issue 16 item 4).
  background: (ctx) => {
    const jobs = [startRetention(ctx), startImpersonationExpiry(ctx)];
    return { stop: async () => void (await Promise.all(jobs.map((j) => j.stop()))) };
  },
  consumers: identityConsumers,
};
