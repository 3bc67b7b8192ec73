// Times the statements of the sitter cascade at one size (default 100,000), without the handler
// around it: where the cascade's time goes, next to the plain DELETE of the same assignments.
//   node --conditions=roster-source --import tsx bench/cascade-scheduling/profile.ts [visits]
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { migratePostgres, openDatabase } from '@roster/platform/db/database';
import { createTestDatabase } from '../../packages/platform/test/support/postgres.js';
import { makeClient } from '../../services/scheduling/src/db/client.js';
import { schedulingService } from '../../services/scheduling/src/service.js';
import { unassignUpcomingVisitsOf } from '../../services/scheduling/src/visits/cascade.js';
import { seedSitter } from './seed.js';

const size = Number(process.argv[2] ?? 100_000);
const database = await createTestDatabase('roster_bench_profile');
await migratePostgres(database.url, schedulingService.migrationFolders);
const db = await openDatabase({ url: database.url, migrationFolders: schedulingService.migrationFolders, migrate: false }, makeClient);
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  for (let round = 0; round < 3; round++) {
    const a = await seedSitter(pool, size);
    const b = await seedSitter(pool, size);
    await pool.query('ANALYZE visit');
    const t: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => { const now = performance.now(); t[name] = Math.round(now - mark); mark = now; };
    await db.client.$transaction(async (tx) => {
      await unassignUpcomingVisitsOf(tx, a.tenantId, a.sitterId);
      lap('cascade statements (3 UPDATEs, events staged)');
    }, { timeout: 120_000 });
    lap('commit');
    const c = await pool.connect();
    await c.query('BEGIN');
    await c.query(`DELETE FROM visit_assignment WHERE tenant_id = $1 AND sitter_id = $2 AND NOT completed AND starts_at > now()`, [b.tenantId, b.sitterId]);
    lap('baseline DELETE');
    await c.query('COMMIT');
    lap('baseline commit');
    c.release();
    console.log(JSON.stringify(t));
  }
} finally {
  await db.close();
  await pool.end();
  await new Promise((r) => setTimeout(r, 500));
  await database.drop();
}
