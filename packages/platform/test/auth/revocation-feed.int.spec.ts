import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import type { RosterEvent } from '@roster/contracts';
import { NotBeforeList } from '../../src/auth/not-before.js';
import { revocationSubscription } from '../../src/auth/revocation-feed.js';
import type { SqlClient } from '../../src/db/sql.js';
import { deactivation } from '../support/events.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const delivery = { transport: 'memory', attempt: 1, group: 'directory.revocations' } as const;

// B2: every service raises a revoked person's not-before at once and persists it, so that a
// replica started later refuses the same tokens; issue 19: the persists are group-committed.
describe('the revocation feed (Postgres)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let statements = 0;
  const db: SqlClient = {
    async $executeRawUnsafe(sql: string, ...params: unknown[]) {
      statements++;
      return (await pool.query(sql, params)).rowCount ?? 0;
    },
    async $queryRawUnsafe<T>(sql: string, ...params: unknown[]) {
      return (await pool.query(sql, params)).rows as T;
    },
  } as SqlClient;
  beforeAll(async () => {
    database = await createTestDatabase('roster_revocation_feed');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await pool.query('CREATE TABLE token_not_before (person_id TEXT PRIMARY KEY, not_before TIMESTAMPTZ(3) NOT NULL, reason TEXT NOT NULL)');
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('raises each not-before in memory on delivery, persists the latest per person in one statement for a burst, and a new replica loads them', async () => {
    const notBefore = new NotBeforeList();
    const feed = revocationSubscription({ db, notBefore, logger: silent });
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 4, 12, 0, 0, ms)).toISOString();
    const events: RosterEvent[] = Array.from({ length: 40 }, (_, i) => ({ ...deactivation(`person-${i % 20}`, 1), time: at(i) }));
    statements = 0;
    await Promise.all(events.map((e) => feed.handler(e, delivery)));
    assert.equal(statements, 1, 'forty deliveries in one turn: one statement');
    assert.equal(notBefore.notBefore('person-3'), Date.parse(at(23)), 'the later of the two revocations of person-3');
    const restarted = new NotBeforeList();
    assert.equal(await restarted.load(db), 20);
    assert.equal(restarted.notBefore('person-3'), Date.parse(at(23)));
    // An older revocation delivered late lowers nothing, in memory or in the table.
    await feed.handler({ ...deactivation('person-3', 1), time: at(1) }, delivery);
    const again = new NotBeforeList();
    await again.load(db);
    assert.equal(again.notBefore('person-3'), Date.parse(at(23)));
  });

  it('while busy, lingers so that revocations arriving spread out share a statement; each is refused in memory on delivery, not after the write', async () => {
    const notBefore = new NotBeforeList();
    const feed = revocationSubscription({ db, notBefore, logger: silent, lingerMs: 40 });
    statements = 0;
    await feed.handler(deactivation('spread-first', 1), delivery); // idle: written at once
    assert.equal(statements, 1);
    const handled: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      handled.push(feed.handler(deactivation(`spread-${i}`, 1), delivery));
      assert.ok(notBefore.notBefore(`spread-${i}`) !== undefined, 'raised in memory before any write');
      await new Promise((r) => setTimeout(r, 4));
    }
    await Promise.all(handled);
    assert.ok(statements <= 3, `eight revocations 4 ms apart in ${statements - 1} statement(s), not eight`);
  });

  it('fails the delivery (so the broker keeps it) when the not-before cannot be persisted', async () => {
    const broken = { ...db, $executeRawUnsafe: async () => { throw new Error('database down'); } } as SqlClient;
    const feed = revocationSubscription({ db: broken, notBefore: new NotBeforeList(), logger: silent });
    await assert.rejects(feed.handler(deactivation('person-x', 1), delivery), /database down/);
  });
});
