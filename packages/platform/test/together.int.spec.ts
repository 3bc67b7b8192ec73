import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { preparedStatementNames } from '../src/db/database.js';
import { pgTransactions } from '../src/db/driver-transactions.js';
import { Writes } from '../src/db/together.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// Issue 19: a command's writes in one statement, each module's SQL beside its table.
describe('Writes: several writes in one statement (Postgres)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await createTestDatabase('roster_writes');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await pool.query(`
      CREATE TABLE parent (id INT PRIMARY KEY, n INT NOT NULL);
      CREATE TABLE child (parent_id INT NOT NULL REFERENCES parent(id), label TEXT NOT NULL);
      INSERT INTO parent VALUES (1, 0)`);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('runs them as one statement: counts by name, a row may reference one inserted beside it, a failure keeps none', async () => {
    const tx = pgTransactions(pool, preparedStatementNames());
    let statements = 0;
    const counts = await tx.$transaction(async (t) => {
      const writes = new Writes();
      writes.add('bumped', `UPDATE parent SET n = n + 1 WHERE id = ${writes.param(1)} RETURNING 1`);
      writes.add('born', `INSERT INTO parent VALUES (${writes.param(2)}, 0) RETURNING id`);
      writes.add('kids', `INSERT INTO child SELECT born.id, x FROM born, unnest(${writes.param(['a', 'b'])}::text[]) AS x RETURNING 1`);
      return writes.run({ $executeRawUnsafe: (...a) => (statements++, t.$executeRawUnsafe(...a)), $queryRawUnsafe: (...a) => (statements++, t.$queryRawUnsafe(...a)) });
    });
    assert.deepEqual(counts, { bumped: 1, born: 1, kids: 2 });
    assert.equal(statements, 1);
    assert.deepEqual((await pool.query('SELECT parent_id, label FROM child ORDER BY label')).rows, [{ parent_id: 2, label: 'a' }, { parent_id: 2, label: 'b' }]);

    // A reference to no row fails the statement: nothing of it stays.
    await assert.rejects(tx.$transaction(async (t) => {
      const writes = new Writes();
      writes.add('bumped', `UPDATE parent SET n = n + 1 WHERE id = ${writes.param(1)} RETURNING 1`);
      writes.add('orphan', `INSERT INTO child VALUES (${writes.param(99)}, 'x') RETURNING 1`);
      return writes.run(t);
    }), /foreign key/);
    assert.equal((await pool.query('SELECT n FROM parent WHERE id = 1')).rows[0].n, 1);
    assert.throws(() => new Writes().add('a', 'SELECT 1').add('a', 'SELECT 2'), /already/);
  });
});
