import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { migratePostgres } from '../src/db/database.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

const write = (dir: string, name: string, sql: string) => {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'migration.sql'), sql);
};

// Migrations are committed SQL applied by Roster in a way `prisma migrate deploy` accepts.
describe('migrations (Postgres)', () => {
  let database: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    database = await createTestDatabase('roster_migrate');
    dir = mkdtempSync(join(tmpdir(), 'roster-migrations-'));
    write(dir, '20260101000000_init', 'CREATE TABLE thing (id INT PRIMARY KEY);\nCREATE INDEX thing_idx ON thing (id);\n');
  });
  afterAll(async () => database?.drop());

  const rows = async () => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      return (await c.query('SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name')).rows;
    } finally {
      await c.end();
    }
  };

  it('applies each migration once and records it as prisma migrate does (SHA-256 checksum, finished_at)', async () => {
    const first = await migratePostgres(database.url, dir);
    assert.deepEqual(first, { applied: ['20260101000000_init'], alreadyApplied: 0 });
    const again = await migratePostgres(database.url, dir);
    assert.deepEqual(again, { applied: [], alreadyApplied: 1 });
    const [row] = await rows();
    const sql = readFileSync(join(dir, '20260101000000_init', 'migration.sql'));
    assert.equal(row.checksum, createHash('sha256').update(sql).digest('hex'));
    assert.ok(row.finished_at instanceof Date);
    assert.equal(row.applied_steps_count, 1);
    assert.equal(row.rolled_back_at, null);
  });

  it('applies a new migration after the ones already there', async () => {
    write(dir, '20260201000000_more', 'ALTER TABLE thing ADD COLUMN name TEXT;');
    assert.deepEqual(await migratePostgres(database.url, dir), { applied: ['20260201000000_more'], alreadyApplied: 1 });
  });

  it('refuses to go on when an applied migration was edited', async () => {
    write(dir, '20260101000000_init', 'CREATE TABLE thing (id BIGINT PRIMARY KEY);\n');
    await assert.rejects(migratePostgres(database.url, dir), /20260101000000_init was edited after it was applied/);
    write(dir, '20260101000000_init', 'CREATE TABLE thing (id INT PRIMARY KEY);\nCREATE INDEX thing_idx ON thing (id);\n');
  });

  it('rolls back a failing migration whole and names it', async () => {
    write(dir, '20260301000000_broken', 'CREATE TABLE other (id INT);\nTHIS IS NOT SQL;');
    await assert.rejects(migratePostgres(database.url, dir), /migration 20260301000000_broken failed: .*syntax error/);
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    const { rows: tables } = await c.query("SELECT to_regclass('other') AS t");
    await c.end();
    assert.equal(tables[0].t, null, 'the half-applied table was rolled back');
    assert.equal((await rows()).length, 2, 'nothing recorded for the failed migration');
  });

  it('issue 19: a table moved to a shared folder — the edited migration declares its earlier checksum, the removed one stays recorded', async () => {
    const db = await createTestDatabase('roster_migrate_moved');
    const shared = mkdtempSync(join(tmpdir(), 'roster-shared-'));
    const own = mkdtempSync(join(tmpdir(), 'roster-own-'));
    try {
      // Before: the service's own migrations created the shared table (twice over, as four services did).
      const before = 'CREATE TABLE shared_box (id INT PRIMARY KEY);\nCREATE TABLE mine (id INT PRIMARY KEY);\n';
      write(own, '20260101000000_init', before);
      write(own, '20260102000000_shared_extra', 'CREATE TABLE shared_extra (id INT);\n');
      await migratePostgres(db.url, own);

      // After: the shared folder creates it if missing; the service's copy is gone or edited.
      write(shared, '20251231000000_shared', 'CREATE TABLE IF NOT EXISTS shared_box (id INT PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS shared_extra (id INT);\n');
      rmSync(join(own, '20260102000000_shared_extra'), { recursive: true });
      const earlier = createHash('sha256').update(before).digest('hex');
      write(own, '20260101000000_init', 'CREATE TABLE mine (id INT PRIMARY KEY);\n');
      await assert.rejects(migratePostgres(db.url, [shared, own]), /20260101000000_init was edited after it was applied/,
        'an edit that does not say which version it replaces is refused');
      write(own, '20260101000000_init', `-- roster-migrate: first applied as sha256:${earlier}, which also created shared_box\nCREATE TABLE mine (id INT PRIMARY KEY);\n`);
      assert.deepEqual(await migratePostgres(db.url, [shared, own]), { applied: ['20251231000000_shared'], alreadyApplied: 1 });
      assert.deepEqual(await migratePostgres(db.url, [shared, own]), { applied: [], alreadyApplied: 2 });

      // A fresh database gets the same tables from the new layout, the shared folder first.
      const fresh = await createTestDatabase('roster_migrate_fresh');
      try {
        assert.deepEqual((await migratePostgres(fresh.url, [own, shared])).applied, ['20251231000000_shared', '20260101000000_init'],
          'one sequence ordered by name, whatever the order of the folders');
      } finally {
        await fresh.drop();
      }
      write(shared, '20260101000000_init', 'SELECT 1;');
      await assert.rejects(migratePostgres(db.url, [shared, own]), /20260101000000_init is in more than one of/);
    } finally {
      await db.drop();
    }
  });
});
