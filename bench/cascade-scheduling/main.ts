// bench-needs: postgres
//
// The sitter cascade of scheduling (cascade table, "sitter / staff deactivated"): time to apply a
// user.deactivated for a sitter with 1,000 / 10,000 / 100,000 upcoming visits through the real
// handler (inbox claim, versioned projection, schedules and default sitters released, visits
// unassigned, visits.unassigned chunked by 1,000 into the outbox, the cascade step, commit), next
// to two baselines measured in the same run over plain pg, each in its own transaction on its own
// identical rows: the same unassignment without any bookkeeping (`DELETE FROM visit_assignment …`),
// and the naive design's `UPDATE visit SET sitter_id = NULL …` (sitter on the visit row, indexed).
// The dry run (B1) is measured too. Goals: p99 ≤ 300 ms at 1,000 and ≤ 3 s at 100,000, linear or better.
//
//   node --conditions=roster-source --import tsx bench/cascade-scheduling/main.ts
//   BENCH_SIZES=1000,10000 BENCH_ROUNDS=5 …   (rounds default to 30 / 10 / 5 by size)
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import { createEvent } from '@roster/contracts';
import { migratePostgres, openDatabase } from '@roster/platform/db/database';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../../packages/platform/test/support/postgres.js';
import { makeClient } from '../../services/scheduling/src/db/client.js';
import { BatchingConsumer } from '@roster/platform/consumers';
import { schedulingConsumers } from '../../services/scheduling/src/consumers.js';
import { schedulingService } from '../../services/scheduling/src/service.js';
import { createNaiveVisitTable, seedSitter } from './seed.js';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_SIZES: comma-separated positive integers');
const roundsFor = (n: number) => Number(process.env.BENCH_ROUNDS ?? 0) || (n <= 1_000 ? 30 : n <= 10_000 ? 10 : 5);
const GOALS: Record<number, number> = { 1_000: 300, 100_000: 3_000 };
const progress = (s: string) => process.stderr.write(`${s}\n`);
const SYSTEM = { kind: 'system', personId: null, impersonatorId: null } as const;

const PATHS = ['cascade', 'dry run', 'plain DELETE (baseline)', 'naive UPDATE (baseline)'] as const;
type Path = (typeof PATHS)[number];
interface Sample { size: number; path: Path; ms: number; touched: number }

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

const deactivation = (tenantId: string, sitterId: string) => createEvent('directory', {
  type: 'user.deactivated', subject: sitterId, tenantId, correlationId: randomUUID(), subjectVersion: 2,
  data: { personId: sitterId, kind: 'staff', roleKeys: ['staff'], reason: null, actor: SYSTEM },
});
const preview = (tenantId: string, sitterId: string) => createEvent('directory', {
  type: 'cascade.preview_requested', subject: sitterId, tenantId, correlationId: randomUUID(),
  data: { action: 'deactivate', personId: sitterId, kind: 'staff', roleKeys: ['staff'] },
});

async function main(): Promise<void> {
  const database: TestDatabase = await createTestDatabase('roster_bench_cascade');
  progress(`database ${database.name}`);
  await migratePostgres(database.url, schedulingService.migrationFolders);
  const db = await openDatabase({ url: database.url, migrationFolders: schedulingService.migrationFolders, migrate: false, poolSize: 10 }, makeClient);
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on('error', () => undefined);
  await createNaiveVisitTable(pool);
  const logger = pino({ level: 'silent' });
  // The service's own consumer, as its subscription runs it (inbox, effect, step, commit), without the bus.
  const consumer = new BatchingConsumer(schedulingConsumers({ logger }), { db: db.sql, relay: { nudge: () => undefined }, logger });
  const samples: Sample[] = [];
  try {
    // Warm-up: JIT, connections, plans.
    for (let i = 0; i < 3; i++) {
      const w = await seedSitter(pool, 500);
      await consumer.handle(preview(w.tenantId, w.sitterId));
      await consumer.handle(deactivation(w.tenantId, w.sitterId));
    }
    for (const size of sizes) {
      const rounds = roundsFor(size);
      progress(`${size.toLocaleString('en-US')} visits × ${rounds} rounds`);
      for (let round = 0; round < rounds; round++) {
        const forCascade = await seedSitter(pool, size);
        const forDelete = await seedSitter(pool, size);
        const forUpdate = await seedSitter(pool, size, 'visit_naive');
        await pool.query('ANALYZE visit; ANALYZE visit_assignment; ANALYZE visit_naive');
        const runCascade = async () => {
          let started = performance.now();
          await consumer.handle(preview(forCascade.tenantId, forCascade.sitterId));
          samples.push({ size, path: 'dry run', ms: performance.now() - started, touched: size });
          started = performance.now();
          await consumer.handle(deactivation(forCascade.tenantId, forCascade.sitterId));
          samples.push({ size, path: 'cascade', ms: performance.now() - started, touched: size });
        };
        const plain = (path: Path, sql: string, who: { tenantId: string; sitterId: string }) => async () => {
          const started = performance.now();
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            const r = await c.query(sql, [who.tenantId, who.sitterId]);
            await c.query('COMMIT');
            samples.push({ size, path, ms: performance.now() - started, touched: r.rowCount ?? 0 });
          } finally {
            c.release();
          }
        };
        const runs = [
          runCascade,
          plain('plain DELETE (baseline)', `DELETE FROM visit_assignment WHERE tenant_id = $1 AND sitter_id = $2 AND NOT completed AND starts_at > now()`, forDelete),
          plain('naive UPDATE (baseline)', `UPDATE visit_naive SET sitter_id = NULL WHERE tenant_id = $1 AND sitter_id = $2 AND status <> 'completed' AND starts_at > now()`, forUpdate),
        ];
        // Rotate which goes first, so that none always finds a warmer cache.
        for (let i = 0; i < runs.length; i++) await runs[(round + i) % runs.length]!();
        const [check] = await db.client.$queryRawUnsafe<{ kept: number; total: number }[]>(
          `SELECT (SELECT count(*) FROM visit_assignment WHERE tenant_id = $1::uuid)::int AS kept, (SELECT count(*) FROM visit WHERE tenant_id = $1::uuid)::int AS total`,
          forCascade.tenantId);
        if (check?.kept !== 1 || check.total !== size + 1) throw new Error(`after the cascade: ${JSON.stringify(check)}, expected only the past visit still assigned`);
        await sleep(20);
      }
    }
  } finally {
    await db.close();
    await pool.end();
    await dropWhenIdle(database);
  }
  report(samples);
}

function report(samples: Sample[]): void {
  const stats = (size: number, path: Path) => {
    const ms = samples.filter((s) => s.size === size && s.path === path).map((s) => s.ms).sort((a, b) => a - b);
    return { runs: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99) };
  };
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const first = sizes[0]!;
  const lines = [
    '| visits | path | runs | p50 ms | p99 ms | µs per visit (p50) | vs plain DELETE (p50) | per visit vs smallest size | goal |',
    '|---:|---|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const size of sizes) {
    const base = stats(size, 'plain DELETE (baseline)');
    for (const path of PATHS) {
      const s = stats(size, path);
      const perVisit = (s.p50 * 1000) / size;
      const firstPerVisit = (stats(first, path).p50 * 1000) / first;
      const goal = path === 'cascade' && GOALS[size] ? `p99 ≤ ${GOALS[size]} ms ${s.p99 <= GOALS[size]! ? '✓' : '✗'}` : '';
      const scaling = size === first ? '—' : `${(perVisit / firstPerVisit).toFixed(2)}×${path === 'cascade' ? (perVisit <= firstPerVisit * 1.1 ? ' ✓ linear or better' : ' ✗') : ''}`;
      lines.push(`| ${size.toLocaleString('en-US')} | ${path} | ${s.runs} | ${f(s.p50)} | ${f(s.p99)} | ${perVisit.toFixed(2)} | ${(s.p50 / base.p50).toFixed(2)}× | ${scaling} | ${goal} |`);
    }
  }
  console.log(lines.join('\n'));
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/cascade-scheduling-${Date.now()}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ sizes, samples }, null, 2));
  progress(`results: ${file.pathname}`);
}

/** Drops the database once the pools' sessions have gone (as bench/bus does). */
async function dropWhenIdle(database: TestDatabase): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
      if (Number(rows[0]?.n ?? 0) === 0) break;
      await sleep(50);
    }
  } finally {
    await admin.end();
  }
  await database.drop();
}

await main();
