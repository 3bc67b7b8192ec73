import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the migrator needs from a connection: pg's Client and PGlite both fit. */
export interface SqlConnection {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Runs a script of several statements (simple query protocol). */
  exec(sql: string): Promise<unknown>;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

// The exact table `prisma migrate deploy` keeps, so that either tool can take over from the other.
const PRISMA_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

// The advisory lock id Prisma's migrate uses: two replicas (or Roster and prisma) never migrate at once.
const PRISMA_MIGRATE_LOCK = 72707369;

/**
 * The folders a database's migrations come from, applied as one sequence ordered by name: the
 * platform's (platform-migrations.ts; their names sort first), then the service's own.
 */
export type MigrationFolders = string | readonly string[];

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
  /**
   * Checksums an applied copy of this migration may carry: its own, and those of earlier versions
   * it declares in a `-- roster-migrate: first applied as sha256:<hex>` line (an edit that changes
   * nothing for a database that applied the earlier one, e.g. tables moved to the platform's own
   * migration, which creates them only if they do not exist).
   */
  accepted: ReadonlySet<string>;
}

const EARLIER_CHECKSUM = /^-- roster-migrate: first applied as sha256:([0-9a-f]{64})\b/gm;

export function listMigrations(folders: MigrationFolders): Migration[] {
  const all = [folders].flat().flatMap((dir) => {
    if (!existsSync(dir)) throw new Error(`migrations folder ${dir} does not exist`);
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
      .map((d) => {
        const sql = readFileSync(join(dir, d.name, 'migration.sql'), 'utf8');
        const checksum = createHash('sha256').update(sql).digest('hex');
        return { name: d.name, sql, checksum, accepted: new Set([checksum, ...[...sql.matchAll(EARLIER_CHECKSUM)].map((m) => m[1]!)]) };
      });
  });
  const names = all.map((m) => m.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) throw new Error(`migration ${twice[0]} is in more than one of ${[folders].flat().join(', ')}`);
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Applies the committed SQL migrations (Prisma's layout: `<folder>/<timestamp>_<name>/migration.sql`)
 * that are not yet recorded, each in its own transaction, recording them in `_prisma_migrations`
 * exactly as `prisma migrate deploy` does (same checksum: SHA-256 of the file). Refuses to go on
 * when an applied migration's file was edited (beyond the earlier checksums it declares) or a
 * previous one failed half-way. A recorded migration without a file any more is left alone: the
 * services' own copies of the platform's tables were removed that way (issue 19).
 */
export async function applyMigrations(conn: SqlConnection, folders: MigrationFolders): Promise<MigrationReport> {
  const migrations = listMigrations(folders);
  await conn.exec(PRISMA_MIGRATIONS_TABLE);
  await conn.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
  try {
    const { rows } = await conn.query<{ migration_name: string; checksum: string; finished_at: unknown; rolled_back_at: unknown }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new Error(`migration ${failed.migration_name} failed earlier and was not rolled back: fix the database, then mark it rolled back`);
    }
    const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r.checksum]));
    // Every applied file checked before anything is applied: a refusal leaves the database as it was.
    const edited = migrations.find((m) => done.has(m.name) && !m.accepted.has(done.get(m.name)!));
    if (edited) throw new Error(`migration ${edited.name} was edited after it was applied (checksum differs)`);
    const applied: string[] = [];
    for (const m of migrations.filter((x) => !done.has(x.name))) {
      const id = randomUUID();
      await conn.exec('BEGIN');
      try {
        await conn.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
          [id, m.checksum, m.name],
        );
        await conn.exec(m.sql);
        await conn.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
        await conn.exec('COMMIT');
      } catch (error) {
        await conn.exec('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      applied.push(m.name);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await conn.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]);
  }
}
