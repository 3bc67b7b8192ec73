import { SpanKind } from '@opentelemetry/api';
import type pg from 'pg';
import { withSpan } from '../telemetry.js';
import type { SqlTx, TransactionRunner } from './sql.js';

/**
 * Transactions straight on a pg pool, for work that only runs SQL (issue 19): Prisma's interactive
 * transaction puts a proxied client, its query compiler and its transaction bookkeeping around
 * every statement, the largest share of Node's CPU on the consumers' hot paths. Statements are
 * prepared once per connection under the same names Prisma's adapter gives them.
 */
export function pgTransactions(pool: pg.Pool, nameOf: (query: { sql: string }) => string | undefined): TransactionRunner<SqlTx> {
  return {
    async $transaction<R>(fn: (tx: SqlTx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R> {
      const client = await pool.connect();
      const tx = namedStatements(client, nameOf);
      let broken: Error | undefined;
      try {
        // Prisma's `timeout` as a server-side bound on each statement, in the same round trip.
        await client.query(options?.timeout ? `BEGIN; SET LOCAL statement_timeout = ${Math.floor(options.timeout)}` : 'BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((e: Error) => void (broken = e));
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}

/**
 * Single statements on the pool, each in its own implicit transaction, with the same statement
 * names and spans: for request paths that need no more than one statement at a time (a login's
 * lookup, then its session) and would otherwise pay Prisma's per-query cost (issue 19).
 */
export function pgStatements(pool: pg.Pool, nameOf: (query: { sql: string }) => string | undefined): SqlTx {
  return namedStatements(pool, nameOf);
}

/** Statements on a pool or a checked-out client: prepared under `nameOf`'s name (when it gives one), traced. */
function namedStatements(target: pg.Pool | pg.PoolClient, nameOf: (query: { sql: string }) => string | undefined): SqlTx {
  const run = (text: string, values: unknown[]) => traced(text, () => {
    const name = nameOf({ sql: text });
    return target.query(name ? { name, text, values } : { text, values });
  });
  return {
    $executeRawUnsafe: async (sql, ...values) => (await run(sql, values)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await run(sql, values)).rows as T,
  };
}

/** The same on an embedded PGlite (one connection: PGlite serializes its transactions itself). */
export function pgliteTransactions(pglite: {
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }> }) => Promise<T>): Promise<T>;
}): TransactionRunner<SqlTx> {
  return {
    $transaction: <R>(fn: (tx: SqlTx) => Promise<R>) => pglite.transaction((t) => fn({
      $executeRawUnsafe: async (sql, ...values) => (await traced(sql, () => t.query(sql, values))).affectedRows ?? 0,
      $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await traced(sql, () => t.query(sql, values))).rows as T,
    })),
  };
}

/**
 * Each statement in a client span with its parameterized text (never the values), as Prisma's
 * instrumentation gives its own: the trace of a cascade reaches the consumer's writes (rule 9).
 * Named like pg's own spans (`pg.`), so that a statement outside any trace (the relay's polls) is
 * not recorded (telemetry.ts's root sampler).
 */
const traced = <T>(text: string, query: () => Promise<T>): Promise<T> =>
  withSpan(`pg.query:${/^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY'}`, { 'db.system.name': 'postgresql', 'db.query.text': text }, query, SpanKind.CLIENT);

/** Single statements on an embedded PGlite (its query() waits for any transaction in progress). */
export function pgliteStatements(pglite: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }> }): SqlTx {
  return {
    $executeRawUnsafe: async (sql, ...values) => (await traced(sql, () => pglite.query(sql, values))).affectedRows ?? 0,
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await traced(sql, () => pglite.query(sql, values))).rows as T,
  };
}
