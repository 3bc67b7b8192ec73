import { defineConfig } from 'prisma/config';

// `prisma generate` needs no database. `prisma migrate deploy` on a connected machine reads
// DATABASE_URL; Roster applies the same committed SQL itself (packages/platform/src/db/migrate.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/roster_directory' },
});
