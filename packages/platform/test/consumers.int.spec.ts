import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, it } from '@jest/globals';
import pg from 'pg';
import { createEvent, type RosterEvent } from '@roster/contracts';
import { BatchingConsumer, inBatches, type Consumers } from '../src/consumers.js';
import { migratePostgres, preparedStatementNames, type SqlTx } from '../src/db/database.js';
import { pgTransactions } from '../src/db/driver-transactions.js';
import { PLATFORM_MIGRATIONS } from '../src/db/platform-migrations.js';
import type { TransactionRunner } from '../src/db/sql.js';
import { eventFor, stageEvents } from '../src/outbox.js';
import { deactivation } from './support/events.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** The driver's own transactions (Database.sql on Postgres), counting commits and rollbacks. */
function pgRunner(pool: pg.Pool): TransactionRunner<SqlTx> & { commits: number; rollbacks: number } {
  const driver = pgTransactions(pool, preparedStatementNames());
  const runner = {
    commits: 0,
    rollbacks: 0,
    async $transaction<R>(fn: (tx: SqlTx) => Promise<R>): Promise<R> {
      try {
        const result = await driver.$transaction(fn, { timeout: 10_000 });
        runner.commits++;
        return result;
      } catch (error) {
        runner.rollbacks++;
        throw error;
      }
    },
  };
  return runner;
}

// Issue 19: the one consumer model takes deliveries in batches, one transaction per batch.
describe('the platform consumer (Postgres)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await createTestDatabase('roster_consumers');
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // The platform's own inbox and outbox, as every service's database has them.
    await migratePostgres(database.url, [PLATFORM_MIGRATIONS.messaging]);
    await pool.query(`
      CREATE TABLE effect (seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL, person_id TEXT NOT NULL)`);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });
  beforeEach(async () => {
    await pool.query('TRUNCATE inbox, outbox, effect');
  });

  const effects = async () => (await pool.query<{ event_id: string; person_id: string }>('SELECT event_id, person_id FROM effect ORDER BY seq')).rows;

  /** A consumer whose `user.deactivated` effect writes a row, reports a step, and fails for `poison`. */
  function consumer(runner: TransactionRunner<SqlTx>, seen: { afterCommit: string[]; nudges: number }, poison = new Set<string>()) {
    const model: Consumers<SqlTx> = {
      service: 'scheduling',
      sqlEffects: {
        'user.deactivated': async (event, { tx, afterCommit }) => {
          await tx.$executeRawUnsafe('INSERT INTO effect (event_id, person_id) VALUES ($1, $2)', event.id, event.data.personId);
          if (poison.has(event.data.personId)) throw new Error(`cannot handle ${event.data.personId}`);
          afterCommit(() => seen.afterCommit.push(event.data.personId));
          return { step: 'unassign_upcoming_visits', counts: { visitsUnassigned: 1 } };
        },
      },
    };
    return new BatchingConsumer(model, { db: runner, relay: { nudge: () => void seen.nudges++ }, logger: silent });
  }

  it('commits deliveries that arrive together in one transaction, each effect once, in delivery order, with its step', async () => {
    const runner = pgRunner(pool);
    const seen = { afterCommit: [] as string[], nudges: 0 };
    const c = consumer(runner, seen);
    const events = Array.from({ length: 20 }, (_, i) => deactivation(`person-${i}`));
    await Promise.all(events.map((e) => c.handle(e)));
    assert.equal(runner.commits, 1, 'twenty deliveries handed over in one turn: one transaction');
    assert.deepEqual((await effects()).map((r) => r.person_id), events.map((e) => e.data.personId));
    const steps = (await pool.query<{ envelope: { data: { causeEventId: string; step: string } } }>("SELECT envelope FROM outbox WHERE type = 'cascade.step.completed' ORDER BY position")).rows;
    assert.deepEqual(steps.map((s) => s.envelope.data.causeEventId), events.map((e) => e.id));
    assert.deepEqual(seen.afterCommit, events.map((e) => e.data.personId));
    assert.equal(seen.nudges, 1, 'the relay is nudged once per committed batch');
  });

  it('leaves the relay alone after a batch that staged no event (a relay pass that finds nothing is a transaction)', async () => {
    const runner = pgRunner(pool);
    let nudges = 0;
    const model: Consumers<SqlTx> = {
      service: 'scheduling',
      sqlEffects: {
        'user.deactivated': async (event, { tx }) => void await tx.$executeRawUnsafe('INSERT INTO effect (event_id, person_id) VALUES ($1, $2)', event.id, event.data.personId),
      },
    };
    const c = new BatchingConsumer(model, { db: runner, relay: { nudge: () => void nudges++ }, logger: silent });
    await Promise.all(Array.from({ length: 5 }, (_, i) => c.handle(deactivation(`quiet-${i}`))));
    assert.equal(runner.commits, 1);
    assert.equal((await effects()).length, 5);
    assert.equal(nudges, 0);
  });

  it('lingers while busy: deliveries spread over time share a transaction; a lone delivery on an idle consumer does not wait', async () => {
    const runner = pgRunner(pool);
    const model: Consumers<SqlTx> = {
      service: 'scheduling',
      sqlEffects: {
        'user.deactivated': async (event, { tx }) => void await tx.$executeRawUnsafe('INSERT INTO effect (event_id, person_id) VALUES ($1, $2)', event.id, event.data.personId),
      },
    };
    const c = new BatchingConsumer(model, { db: runner, relay: { nudge() {} }, logger: silent, lingerMs: 50 });
    const lone = performance.now();
    await c.handle(deactivation('lone'));
    assert.ok(performance.now() - lone < 45, `an idle consumer commits at once (${Math.round(performance.now() - lone)} ms)`);
    // Now busy: ten deliveries 5 ms apart, the first right after that commit.
    const spread: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      spread.push(c.handle(deactivation(`spread-${i}`)));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(spread);
    assert.equal((await effects()).length, 11);
    assert.ok(runner.commits <= 3, `ten deliveries over ~50 ms in ${runner.commits - 1} transaction(s), not ten`);
  });

  it('keeps taking batches while a transaction runs: later deliveries wait and go together in the next one', async () => {
    const runner = pgRunner(pool);
    const c = consumer(runner, { afterCommit: [], nudges: 0 });
    const first = c.handle(deactivation('early'));
    await new Promise((r) => setImmediate(r)); // the first transaction has begun
    const later = Array.from({ length: 10 }, (_, i) => c.handle(deactivation(`later-${i}`)));
    await Promise.all([first, ...later]);
    assert.equal(runner.commits, 2);
    assert.equal((await effects()).length, 11);
  });

  it('applies an event delivered twice (in one batch, or again later) once (rule 2)', async () => {
    const runner = pgRunner(pool);
    const c = consumer(runner, { afterCommit: [], nudges: 0 });
    const event = deactivation('twice');
    await Promise.all([c.handle(event), c.handle(event), c.handle(deactivation('other'))]);
    await c.handle(event);
    assert.deepEqual((await effects()).map((r) => r.person_id), ['twice', 'other']);
  });

  it('isolates a poison event: the rest of its batch commits, it alone fails with its own error and writes nothing', async () => {
    const runner = pgRunner(pool);
    const seen = { afterCommit: [] as string[], nudges: 0 };
    const c = consumer(runner, seen, new Set(['poison']));
    const events = ['a', 'b', 'poison', 'c'].map((p) => deactivation(p));
    const outcomes = await Promise.allSettled(events.map((e) => c.handle(e)));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /cannot handle poison/);
    assert.deepEqual((await effects()).map((r) => r.person_id), ['a', 'b', 'c']);
    assert.deepEqual(seen.afterCommit, ['a', 'b', 'c'], 'after-commit work of a rolled-back batch never runs');
    const claimed = (await pool.query<{ event_id: string }>('SELECT event_id FROM inbox')).rows.map((r) => r.event_id).sort();
    assert.deepEqual(claimed, [events[0]!.id, events[1]!.id, events[3]!.id].sort(), 'the poison event is not claimed: its redelivery is handled again');
  });

  it('hands back the later events about a failed event\'s subject, so that they come again after it (rule 3)', async () => {
    const runner = pgRunner(pool);
    const c = consumer(runner, { afterCommit: [], nudges: 0 }, new Set(['poison']));
    const failing = deactivation('poison', 1);
    // The third is about the same subject and would apply on its own (only 'poison' fails).
    const events = [failing, deactivation('bystander'), { ...deactivation('later', 2), subject: failing.subject }];
    const outcomes = await Promise.allSettled(events.map((e) => c.handle(e)));
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled', 'rejected']);
    assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /an earlier event about poison in the same batch failed/);
    assert.deepEqual((await effects()).map((r) => r.person_id), ['bystander']);
  });

  it('runs each effect in its own event\'s work context: what it emits is caused by that event', async () => {
    const runner = pgRunner(pool);
    const model: Consumers<SqlTx> = {
      service: 'scheduling',
      sqlEffects: {
        'user.deactivated': async (event, { tx }) => {
          await stageEvents(tx, [eventFor('scheduling', {
            type: 'visits.unassigned', subject: event.data.personId,
            data: { sitterId: event.data.personId, visitCount: 0, visitIds: [], chunk: { index: 0, total: 1 }, defaultSitterClearedFor: 0 },
          })]);
        },
      },
    };
    const c = new BatchingConsumer(model, { db: runner, relay: { nudge() {} }, logger: silent });
    const events: RosterEvent[] = [deactivation('x', 1, 'tenant-x'), deactivation('y', 1, 'tenant-y')];
    await Promise.all(events.map((e) => c.handle(e)));
    const staged = (await pool.query<{ envelope: { causationid: string; correlationid: string; tenantid: string } }>('SELECT envelope FROM outbox ORDER BY position')).rows.map((r) => r.envelope);
    assert.deepEqual(staged.map((e) => [e.causationid, e.correlationid, e.tenantid]), events.map((e) => [e.id, e.correlationid, e.tenantid]));
  });
  it('hands a set-based effect each run of consecutive events of its type in one call; each step names its own event as cause', async () => {
    const runner = pgRunner(pool);
    const calls: string[][] = [];
    const model: Consumers<SqlTx> = {
      service: 'identity',
      sqlEffects: {
        'access.granted': inBatches(async (events, { tx }) => {
          calls.push(events.map((e) => e.data.accountId));
          await tx.$executeRawUnsafe('INSERT INTO effect (event_id, person_id) SELECT * FROM unnest($1::text[], $2::text[])', events.map((e) => e.id), events.map((e) => e.data.accountId));
          return events.map(() => ({ step: 'update_token_roles', counts: { membershipsChanged: 1 } }));
        }),
        'user.deactivated': async (event, { tx }) => {
          await tx.$executeRawUnsafe('INSERT INTO effect (event_id, person_id) VALUES ($1, $2)', event.id, event.data.personId);
        },
      },
    };
    const c = new BatchingConsumer(model, { db: runner, relay: { nudge() {} }, logger: silent });
    const granted = (accountId: string) => createEvent('directory', {
      type: 'access.granted', subject: 'cora', tenantId: 'tenant-a', correlationId: 'bulk-1',
      data: { personId: 'cora', accountId, roleKey: 'manager', actor: { kind: 'system', personId: null, impersonatorId: null } },
    });
    const [a1, a2, a3, a4] = ['a1', 'a2', 'a3', 'a4'].map(granted) as [RosterEvent, RosterEvent, RosterEvent, RosterEvent];
    await Promise.all([a1, a2, a3, deactivation('between'), a4, a2].map((e) => c.handle(e)));
    assert.equal(runner.commits, 1);
    assert.deepEqual(calls, [['a1', 'a2', 'a3'], ['a4']], 'one call per run; the duplicate is not handed over again');
    assert.deepEqual((await effects()).map((r) => r.person_id), ['a1', 'a2', 'a3', 'between', 'a4'], 'delivery order kept');
    const steps = (await pool.query<{ envelope: { causationid: string; data: { causeEventId: string } } }>("SELECT envelope FROM outbox WHERE type = 'cascade.step.completed' ORDER BY position")).rows;
    assert.deepEqual(steps.map((s) => [s.envelope.data.causeEventId, s.envelope.causationid]), [a1, a2, a3, a4].map((e) => [e.id, e.id]));
  });
});
