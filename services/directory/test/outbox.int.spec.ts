import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { RosterEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { migratePostgres } from '@roster/platform/db/database';
import { startService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { directoryService } from '../src/service.js';

// Rule 2: an event exists if and only if its change committed, and is published at least once
// even when the process dies between the commit and the publish.
describe('transactional outbox (directory, Postgres)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('roster_outbox');
    await migratePostgres(database.url, directoryService.migrationFolders);
  });
  afterAll(async () => database?.drop());

  it('publishes after a restart what a process committed and could not publish before dying', async () => {
    const tenantId = randomUUID();
    const child = spawnSync(process.execPath, ['--conditions=roster-source', '--import', 'tsx', fileURLToPath(new URL('./support/write-then-die.ts', import.meta.url))], {
      env: { ...process.env, DATABASE_URL: database.url, TENANT_ID: tenantId }, encoding: 'utf8',
    });
    assert.equal(child.signal, 'SIGKILL', `the writer died by SIGKILL (stderr: ${child.stderr})`);
    const personId = child.stdout.trim();
    assert.match(personId, /^[0-9a-f-]{36}$/);

    const bus = new MemoryBus();
    const received: RosterEvent[] = [];
    await bus.subscribe({ group: 'watcher', types: ['user.created'], handler: async (e) => void received.push(e) });
    const directory = await startService(directoryService, {
      bus, env: { PORT: '0', DATABASE_URL: database.url, ROSTER_OPERATOR_KEY: 'k'.repeat(20), LOG_LEVEL: 'silent' },
    });
    try {
      const event = await waitFor('the user.created left behind', () => received.find((e) => e.subject === personId));
      assert.equal(event.tenantid, tenantId);
      assert.equal(event.subjectversion, 1);
      // The relay marks the row in the same transaction after the bus confirmed the publish, so a
      // subscriber may see the event a moment before that transaction commits.
      const rows = await waitFor('the row marked published once the bus confirmed it', async () => {
        const found = await directory.ctx.prisma.$queryRawUnsafe<{ published_at: Date | null }[]>('SELECT published_at FROM outbox WHERE subject = $1', personId);
        return found[0]?.published_at ? found : undefined;
      });
      assert.equal(rows.length, 1, 'one outbox row for the one change');
    } finally {
      await directory.stop();
    }
  });

  it('writes no event when the change rolls back', async () => {
    const bus = new MemoryBus();
    const directory = await startService(directoryService, {
      bus, env: { PORT: '0', DATABASE_URL: database.url, ROSTER_OPERATOR_KEY: 'k'.repeat(20), LOG_LEVEL: 'silent' },
    });
    try {
      const before = await directory.ctx.prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM outbox');
      const res = await fetch(`${directory.url}/people/${randomUUID()}/deactivate`, {
        method: 'POST', headers: { 'x-operator-key': 'k'.repeat(20), 'x-roster-tenant': randomUUID(), 'content-type': 'application/json' }, body: '{}',
      });
      assert.equal(res.status, 404);
      const afterRows = await directory.ctx.prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM outbox');
      assert.equal(afterRows[0]!.n, before[0]!.n);
    } finally {
      await directory.stop();
    }
  });
});
