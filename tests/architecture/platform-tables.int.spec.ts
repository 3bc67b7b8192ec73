import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import pg from 'pg';
import { migratePostgres } from '@roster/platform/db/database';
import { listMigrations } from '@roster/platform/db/migrate';
import { PLATFORM_MIGRATIONS } from '@roster/platform/db/platform-migrations';
import { createTestDatabase } from '../../packages/platform/test/support/postgres.js';
import { directoryService } from '../../services/directory/src/service.js';
import { identityService } from '../../services/identity/src/service.js';
import { notificationsService } from '../../services/notifications/src/service.js';
import { schedulingService } from '../../services/scheduling/src/service.js';

const services = [directoryService, identityService, schedulingService, notificationsService];
const PLATFORM_TABLES = ['outbox', 'inbox', 'token_not_before', 'person_projection'];

/** Each table's columns (name type nullability default), as Postgres describes them. */
async function columnsOf(url: string, tables: readonly string[]): Promise<Record<string, string[]>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ table_name: string; column: string }>(
      `SELECT table_name, concat_ws(' ', column_name, data_type, is_nullable, column_default) AS column
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY($1) ORDER BY table_name, ordinal_position`, [tables]);
    const byTable: Record<string, string[]> = {};
    for (const r of rows) (byTable[r.table_name] ??= []).push(r.column);
    return byTable;
  } finally {
    await c.end();
  }
}

// Issue 19: the platform owns its tables — one definition, applied before each service's own migrations.
describe('the platform\'s tables (Postgres)', () => {
  it('no service creates outbox, inbox, token_not_before or person_projection itself; every service takes the platform\'s first', () => {
    for (const service of services) {
      const folders = [service.migrationFolders].flat();
      assert.equal(folders[0], PLATFORM_MIGRATIONS.messaging, `${service.name}: the platform's migrations come first`);
      const own = folders.at(-1)!;
      for (const name of readdirSync(own).filter((n) => /^\d{14}_/.test(n))) {
        const sql = readFileSync(join(own, name, 'migration.sql'), 'utf8');
        const copied = PLATFORM_TABLES.filter((t) => new RegExp(`CREATE TABLE (IF NOT EXISTS )?"?${t}"?\\s*\\(`, 'i').test(sql));
        assert.deepEqual(copied, [], `${service.name}'s ${name} creates the platform's ${copied.join(', ')}`);
      }
      const names = listMigrations(service.migrationFolders).map((m) => m.name);
      const platform = listMigrations([PLATFORM_MIGRATIONS.messaging, PLATFORM_MIGRATIONS.personProjection]).map((m) => m.name);
      assert.ok(names.filter((n) => platform.includes(n)).every((n, i) => names[i] === n), `${service.name}: platform migrations sort first`);
    }
  });

  it('a fresh database of each service has the same outbox, inbox and token_not_before; person_projection where the service reacts to people', async () => {
    const shapes: Record<string, Record<string, string[]>> = {};
    for (const service of services) {
      const db = await createTestDatabase(`roster_platform_${service.name}`);
      try {
        await migratePostgres(db.url, service.migrationFolders);
        shapes[service.name] = await columnsOf(db.url, PLATFORM_TABLES);
      } finally {
        await db.drop();
      }
    }
    for (const table of ['outbox', 'inbox', 'token_not_before']) {
      const first = shapes['directory']![table];
      assert.ok(first && first.length > 2, `directory has ${table}`);
      for (const service of services) assert.deepEqual(shapes[service.name]![table], first, `${service.name}'s ${table} is the platform's`);
    }
    assert.equal(shapes['directory']!['person_projection'], undefined, 'the directory keeps people themselves, not a projection');
    for (const name of ['identity', 'scheduling', 'notifications']) {
      const columns = shapes[name]!['person_projection'] ?? [];
      assert.deepEqual(columns.slice(0, 6).map((c) => c.split(' ')[0]), ['id', 'tenant_id', 'kind', 'status', 'version', 'updated_at'], name);
      assert.ok(columns.length > 6, `${name} adds its own columns to the platform's person_projection`);
    }
  });
});
