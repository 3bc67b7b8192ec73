import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { pgliteStatements, pgliteTransactions, pgStatements, pgTransactions } from './driver-transactions.js';
import type { SqlClient, SqlTx, TransactionRunner } from './sql.js';
import { applyMigrations, type MigrationFolders, type MigrationReport, type SqlConnection } from './migrate.js';
import { pgliteArtifacts, pgliteTemplate } from './pglite-template.js';

export type { SqlClient, SqlTx } from './sql.js';

export type DriverAdapter = unknown;

/** What a service's `makeClient` passes to its PrismaClient besides the adapter. */
export interface ClientOptions {
  /** Interactive transactions wait this long for a connection (Prisma's default, 2 s, is shorter than the pool's). */
  transactionOptions: { maxWait: number; timeout: number };
}
export type MakeClient<C> = (adapter: DriverAdapter, options: ClientOptions) => C;

export interface DatabaseOptions {
  /** `postgres://…` or `pglite:<folder>` (embedded) or `pglite:memory`. */
  url: string;
  /** Where the migrations come from (platform-migrations.ts, then the service's own). */
  migrationFolders: MigrationFolders;
  /** Apply migrations now (embedded start, tests); production runs the migrate command instead. */
  migrate: boolean;
  /** Connection pool size per process (Postgres). */
  poolSize?: number;
  /** How long a query waits for a free connection before failing (ms). */
  acquireTimeoutMs?: number;
  /** Postgres: prepare each statement once per connection (default true; off behind a transaction-mode pooler). */
  preparedStatements?: boolean;
}

export interface Database<C> {
  client: C;
  /** Transactions on the driver itself, for work that only runs SQL (the consumers' hot paths). */
  sql: TransactionRunner<SqlTx>;
  /** Single statements on the driver, no transaction around them (the login path). */
  statements: SqlTx;
  kind: 'postgres' | 'pglite';
  migrations: MigrationReport | null;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens a service's database with the right Prisma driver adapter: `@prisma/adapter-pg` on a pg
 * pool (size and acquire timeout set explicitly) or `pglite-prisma-adapter` on an embedded
 * PGlite under the data folder. `makeClient` is the service's own generated `PrismaClient`.
 */
export async function openDatabase<C extends SqlClient>(
  options: DatabaseOptions,
  makeClient: MakeClient<C>,
): Promise<Database<C>> {
  if (options.url.startsWith('pglite:')) return openPglite(options, makeClient);
  if (/^postgres(ql)?:\/\//.test(options.url)) return openPostgres(options, makeClient);
  throw new Error(`DATABASE_URL must be postgres://… or pglite:<folder>, got "${options.url.split(':')[0]}:…"`);
}

/** For /readyz: whether the database answers a trivial query. */
const answers = (query: () => Promise<unknown>): Promise<boolean> => query().then(() => true, () => false);

const clientOptions = (options: DatabaseOptions): ClientOptions => ({
  transactionOptions: { maxWait: options.acquireTimeoutMs ?? 5_000, timeout: 15_000 },
});

async function openPostgres<C extends SqlClient>(options: DatabaseOptions, makeClient: MakeClient<C>): Promise<Database<C>> {
  let migrations: MigrationReport | null = null;
  if (options.migrate) migrations = await migratePostgres(options.url, options.migrationFolders);
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.acquireTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server ends (restart, failover, a dropped database) is discarded by the
  // pool; without a listener its 'error' would crash the process. Queries in flight fail on their own.
  pool.on('error', () => undefined);
  // The adapter's type wants a name for every statement; pg runs a statement without one unnamed.
  const statementNameGenerator = preparedStatementNames() as (query: { sql: string }) => string;
  const adapter = options.preparedStatements === false ? new PrismaPg(pool) : new PrismaPg(pool, { statementNameGenerator });
  const client = makeClient(adapter, clientOptions(options));
  // One naming for the driver's statements (transactions and single statements share connections).
  const driverNames = options.preparedStatements === false ? () => undefined : preparedStatementNames();
  return {
    client,
    sql: pgTransactions(pool, driverNames),
    statements: pgStatements(pool, driverNames),
    kind: 'postgres',
    migrations,
    ping: () => answers(() => pool.query('SELECT 1')),
    close: async () => {
      await client.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * Names for the statements Prisma sends, so that each connection parses and plans a statement once
 * and then only binds and executes it (pg keeps the prepared statement per connection). Unnamed,
 * every query was parsed and planned again: on the login path that was most of Postgres's CPU.
 * Bounded: past `limit` distinct texts (lists of varying length make new texts) or for long texts,
 * statements stay unnamed, so no connection accumulates an unbounded set of prepared statements.
 */
export function preparedStatementNames(limit = 500, maxLength = 8_192): (query: { sql: string }) => string | undefined {
  const names = new Map<string, string>();
  return ({ sql }) => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= limit || sql.length > maxLength) return known;
    const name = `roster_${createHash('sha1').update(sql).digest('hex')}`;
    names.set(sql, name);
    return name;
  };
}

/** Applies migrations over a dedicated connection (the migrate command uses this too). */
export async function migratePostgres(url: string, migrationFolders: MigrationFolders): Promise<MigrationReport> {
  const conn = new pg.Client({ connectionString: url });
  await conn.connect();
  try {
    const sql: SqlConnection = { query: (q, p) => conn.query(q, p) as never, exec: (q) => conn.query(q) };
    return await applyMigrations(sql, migrationFolders);
  } finally {
    await conn.end();
  }
}

async function openPglite<C extends SqlClient>(options: DatabaseOptions, makeClient: MakeClient<C>): Promise<Database<C>> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const where = options.url.slice('pglite:'.length);
  const inMemory = where === 'memory' || where === '';
  if (!inMemory) mkdirSync(where, { recursive: true });
  // pg_trgm: the same search indexes as on Postgres (directory's people search, P7).
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  // A new database starts from the template cluster instead of running initdb (pglite-template.ts).
  const fresh = inMemory || !existsSync(join(where, 'PG_VERSION'));
  const pglite = await PGlite.create({
    ...(inMemory ? {} : { dataDir: where }),
    ...(fresh ? { loadDataDir: await pgliteTemplate() } : {}),
    ...(await pgliteArtifacts()),
    extensions: { pg_trgm },
  });
  let migrations: MigrationReport | null = null;
  if (options.migrate) {
    migrations = await applyMigrations({ query: (q, p) => pglite.query(q, p) as never, exec: (q) => pglite.exec(q) }, options.migrationFolders);
  }
  const client = makeClient(new PrismaPGlite(pglite), clientOptions(options));
  return {
    client,
    sql: pgliteTransactions(pglite as never),
    statements: pgliteStatements(pglite as never),
    kind: 'pglite',
    migrations,
    ping: () => answers(() => pglite.query('SELECT 1')),
    close: async () => {
      await client.$disconnect();
      await pglite.close();
    },
  };
}
