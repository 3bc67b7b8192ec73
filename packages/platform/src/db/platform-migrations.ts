import { fileURLToPath } from 'node:url';

/**
 * The platform's own tables, defined once (issue 19) and applied to each service's database before
 * the service's own migrations (their names sort first): a service lists the folders it uses, then
 * its own `prisma/migrations`, as its `migrationFolders`. Next to src/ and dist/ alike.
 */
export const PLATFORM_MIGRATIONS = {
  /** outbox, inbox, token_not_before: every service. */
  messaging: fileURLToPath(new URL('../../migrations/messaging', import.meta.url)),
  /** person_projection (people-projection.ts): the services that react to people's events. */
  personProjection: fileURLToPath(new URL('../../migrations/person-projection', import.meta.url)),
} as const;
