import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, it } from '@jest/globals';
import pg from 'pg';
import type { RosterEvent } from '@roster/contracts';
import { BatchingConsumer } from '../src/consumers.js';
import { migratePostgres, preparedStatementNames, type SqlTx } from '../src/db/database.js';
import { pgTransactions } from '../src/db/driver-transactions.js';
import { PLATFORM_MIGRATIONS } from '../src/db/platform-migrations.js';
import type { TransactionRunner } from '../src/db/sql.js';
import { eventFor, stageEvents } from '../src/outbox.js';
import { personLifecycleEffects, type PersonLifecycle } from '../src/people-projection.js';
import { deactivation } from './support/events.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

// Issue 19, rule 3: a run of person events advances the projection in one statement, and each
// event's effect still runs as it would alone: fresh or stale by version, in its own context.
describe('the person projection in batches (Postgres)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const tenantId = randomUUID();
  beforeAll(async () => {
    database = await createTestDatabase('roster_people_projection');
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // The platform's own inbox, outbox and person_projection, as a consuming service's database has them.
    await migratePostgres(database.url, [PLATFORM_MIGRATIONS.messaging, PLATFORM_MIGRATIONS.personProjection]);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });
  beforeEach(async () => {
    await pool.query('TRUNCATE inbox, outbox, person_projection');
  });

  /** The driver's transactions, counting the projection statements. */
  function counting(): TransactionRunner<SqlTx> & { projectionStatements: number; commits: number } {
    const driver = pgTransactions(pool, preparedStatementNames());
    const runner = {
      projectionStatements: 0,
      commits: 0,
      async $transaction<R>(fn: (tx: SqlTx) => Promise<R>): Promise<R> {
        const result = await driver.$transaction((tx) => fn({
          $executeRawUnsafe: (sql, ...v) => (/person_projection/.test(sql) && runner.projectionStatements++, tx.$executeRawUnsafe(sql, ...v)),
          $queryRawUnsafe: (sql, ...v) => (/person_projection/.test(sql) && runner.projectionStatements++, tx.$queryRawUnsafe(sql, ...v)),
        }));
        runner.commits++;
        return result;
      },
    };
    return runner;
  }

  /** A column of the cascade table whose deactivation stages a follow-up (as scheduling's visits.unassigned). */
  const lifecycle: PersonLifecycle = {
    service: 'scheduling',
    logger: silent,
    effects: {
      'user.deactivated': {
        step: 'unassign_upcoming_visits',
        async apply(tx, event) {
          await stageEvents(tx, [eventFor('scheduling', {
            type: 'visits.unassigned', subject: event.data.personId, tenantId: event.tenantid,
            data: { sitterId: event.data.personId, visitCount: 1, visitIds: [randomUUID()], chunk: { index: 0, total: 1 }, defaultSitterClearedFor: 0 },
          })]);
          return { counts: { visitsUnassigned: 1 } };
        },
      },
    },
    preview: async () => null,
  };

  it('twenty deactivations in one turn: one projection statement; a stale one changes nothing; each follow-up carries its own event\'s operation', async () => {
    const runner = counting();
    const c = new BatchingConsumer({ service: 'scheduling', sqlEffects: personLifecycleEffects(lifecycle) }, { db: runner, relay: { nudge() {} }, logger: silent });
    const people = Array.from({ length: 20 }, () => randomUUID());
    // The last one's projection is already newer (a reactivation that overtook this deactivation).
    await pool.query("INSERT INTO person_projection VALUES ($1, $2, 'staff', 'active', 5, now())", [people[19], tenantId]);
    const events = people.map((p) => deactivation(p, 2, tenantId));
    await Promise.all(events.map((e) => c.handle(e)));
    assert.equal(runner.commits, 1);
    assert.equal(runner.projectionStatements, 1, 'one statement for the run');
    const rows = new Map((await pool.query<{ id: string; status: string; version: number }>('SELECT id::text, status, version FROM person_projection')).rows.map((r) => [r.id, r]));
    for (const p of people.slice(0, 19)) assert.deepEqual([rows.get(p)?.status, rows.get(p)?.version], ['inactive', 2]);
    assert.deepEqual([rows.get(people[19]!)?.status, rows.get(people[19]!)?.version], ['active', 5], 'the newer version stays');
    const outbox = (await pool.query<{ envelope: RosterEvent }>('SELECT envelope FROM outbox ORDER BY position')).rows.map((r) => r.envelope);
    const followUps = outbox.filter((e) => e.type === 'visits.unassigned');
    assert.deepEqual(followUps.map((e) => e.subject), people.slice(0, 19), 'a follow-up for each fresh deactivation, none for the stale one');
    for (const [i, e] of followUps.entries()) assert.equal(e.correlationid, events[i]!.correlationid, 'in its own event\'s work: its operation');
    const steps = outbox.filter((e) => e.type === 'cascade.step.completed') as Extract<RosterEvent, { type: 'cascade.step.completed' }>[];
    assert.deepEqual(steps.map((s) => s.data.outcome), [...Array(19).fill('applied'), 'stale_ignored']);
  });

  it('a run naming a person twice goes one by one and ends as the newest version says; another tenant\'s row is left alone', async () => {
    const runner = counting();
    const c = new BatchingConsumer({ service: 'scheduling', sqlEffects: personLifecycleEffects(lifecycle) }, { db: runner, relay: { nudge() {} }, logger: silent });
    const twice = randomUUID();
    const foreign = randomUUID();
    await pool.query("INSERT INTO person_projection VALUES ($1, $2, 'staff', 'active', 1, now())", [foreign, randomUUID()]);
    await Promise.all([deactivation(twice, 2, tenantId), deactivation(twice, 3, tenantId), deactivation(foreign, 2, tenantId)].map((e) => c.handle(e)));
    const rows = new Map((await pool.query<{ id: string; tenant_id: string; status: string; version: number }>('SELECT id::text, tenant_id::text, status, version FROM person_projection')).rows.map((r) => [r.id, r]));
    assert.deepEqual([rows.get(twice)?.status, rows.get(twice)?.version], ['inactive', 3]);
    assert.equal(rows.get(foreign)?.tenant_id !== tenantId && rows.get(foreign)?.version, 1, 'another tenant\'s person is not touched');
  });
});
