import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { openDatabase } from '@roster/platform/db/database';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { makeClient } from '../src/db/client.js';
import { identityService } from '../src/service.js';

// A login's lookup, as Prisma sends it: prepared once per connection by default (less Postgres CPU),
// never with DB_PREPARED_STATEMENTS=false (poolers that move a client between server connections).
describe('prepared statements on Postgres (DB_PREPARED_STATEMENTS)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('roster_identity_prepared');
  });
  afterAll(async () => {
    await database?.drop();
  });

  const preparedAfterTwoLookups = async (preparedStatements: boolean) => {
    // One connection: the statements prepared on it are the ones this session sees.
    const db = await openDatabase({ url: database.url, migrationFolders: identityService.migrationFolders, migrate: true, poolSize: 1, preparedStatements }, makeClient);
    try {
      for (let i = 0; i < 2; i++) {
        await db.client.$queryRawUnsafe('SELECT count(*)::int AS n FROM login WHERE username = $1', `nobody-${i}`);
        // The login path's own statements go to the driver directly (db.statements): the same rule.
        await db.statements.$queryRawUnsafe('SELECT count(*)::int AS n FROM login WHERE username = $1 AND enabled', `nobody-${i}`);
      }
      return await db.client.$queryRawUnsafe<{ name: string; statement: string }[]>('SELECT name, statement FROM pg_prepared_statements');
    } finally {
      await db.close();
    }
  };

  it('prepares a statement once per connection by default', async () => {
    const prepared = await preparedAfterTwoLookups(true);
    const lookups = prepared.filter((p) => p.statement.includes('FROM login WHERE username'));
    assert.equal(lookups.length, 2, 'each lookup (through Prisma, on the driver) is prepared once, for both runs');
    for (const lookup of lookups) assert.match(lookup.name, /^roster_[0-9a-f]{40}$/);
  });

  it('prepares nothing when turned off', async () => {
    assert.deepEqual((await preparedAfterTwoLookups(false)).filter((p) => p.statement.includes('FROM login')), []);
  });
});
