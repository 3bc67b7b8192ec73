import { defineConfig } from 'prisma/config';

// `prisma generate` needs no database. Roster applies the committed SQL itself
// (packages/platform/src/db/migrate.ts): the platform's tables' migrations first, then these.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/roster_scheduling' },
});
