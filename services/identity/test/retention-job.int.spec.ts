// Issue 4: identity's retention clean-up runs in the background of the service (the platform's
// `background` hook): it logs what each run removed, a run in progress finishes before the
// database closes when the service stops, and a failing run is logged, never fatal.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { MemoryBus } from '@roster/platform/bus/memory';
import { migratePostgres } from '@roster/platform/db/database';
import { createLogger } from '@roster/platform/logging';
import { startService, type RunningService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { IdentityDb } from '../src/db/client.js';
import { identityService } from '../src/service.js';
import { RETENTION_SCHEDULE, startRetention } from '../src/sessions/retention.js';

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

const removedBy = (lines: LogLine[]) =>
  lines.filter((l) => l.level === 'info' && l.msg.startsWith('retention:'))
    .map((l) => ({ sessions: l.sessions, refreshTokens: l.refreshTokens, loginThrottles: l.loginThrottles }));
const failures = (lines: LogLine[]) => lines.filter((l) => l.level === 'warn' || l.level === 'error');

function capturedLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger('identity', { level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  return { logger, lines };
}

describe('identity: the retention job in the running service (Postgres)', () => {
  let database: TestDatabase;
  let sql: pg.Client;
  let running: RunningService<IdentityDb> | undefined;
  const bus = new MemoryBus();

  beforeAll(async () => {
    database = await createTestDatabase('roster_identity_retention');
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await running?.stop();
    await bus.close();
    await sql?.end();
    await database?.drop();
  });

  it('identity runs it on its own: first shortly after start, then every few minutes', () => {
    assert.ok(identityService.background, 'the service definition starts it');
    assert.ok(RETENTION_SCHEDULE.firstAfterMs <= 60_000 && RETENTION_SCHEDULE.everyMs <= 15 * 60_000, JSON.stringify(RETENTION_SCHEDULE));
  });

  it('a run removes a backlog in batches and logs the counts; a stopping service finishes the batch in flight, not the backlog', async () => {
    await migratePostgres(database.url, identityService.migrationFolders);
    // 12,000 sessions that expired ten days ago, each with its token: more than two batches each.
    await sql.query(`INSERT INTO session (id, tenant_id, person_id, created_at, expires_at)
                     SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), now() - interval '40 days', now() - interval '10 days'
                       FROM generate_series(1, 12000)`);
    await sql.query(`INSERT INTO refresh_token (token_hash, session_id, created_at) SELECT md5(id::text) || md5(id::text), id, created_at FROM session`);
    await sql.query(`INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ('u:long-gone', 3, now() - interval '1 hour')`);

    // The first batch waits on this lock: the run is in progress when the service is told to stop.
    await sql.query('BEGIN');
    await sql.query('LOCK TABLE refresh_token IN ACCESS EXCLUSIVE MODE');
    const first = await start();
    await waitFor('the first batch to wait on refresh_token', async () => {
      const { rows } = await sql.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_locks WHERE relation = 'refresh_token'::regclass AND NOT granted`);
      return rows[0]!.waiting > 0;
    });
    let stopped = false;
    const stopping = first.service.stop().then(() => void (stopped = true));
    await sleep(300);
    assert.equal(stopped, false, 'the service waits for the batch in flight');
    await sql.query('COMMIT');
    await stopping;
    assert.deepEqual(removedBy(first.lines), [{ sessions: 0, refreshTokens: 5000, loginThrottles: 0 }], 'one batch, then the run ends');
    assert.deepEqual(failures(first.lines), [], 'nothing failed on the way down');
    assert.ok(first.lines.some((l) => l.msg === 'identity stopped'));
    assert.deepEqual(await left(), { sessions: 12000, refreshTokens: 7000, loginThrottles: 1 });

    // The next start removes the rest.
    const second = await start();
    await waitFor('the run of the restarted service', () => removedBy(second.lines).length > 0);
    await second.service.stop();
    assert.deepEqual(removedBy(second.lines), [{ sessions: 12000, refreshTokens: 7000, loginThrottles: 1 }]);
    assert.deepEqual(failures(second.lines), []);
    assert.deepEqual(await left(), { sessions: 0, refreshTokens: 0, loginThrottles: 0 });
  });

  it('SESSION_RETENTION_DAYS keeps ended sessions longer: 30 days keeps one ended 10 days ago, not one ended 40 days ago', async () => {
    await migratePostgres(database.url, identityService.migrationFolders);
    await sql.query(`INSERT INTO session (id, tenant_id, person_id, created_at, expires_at)
                     SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), now() - interval '90 days', now() - make_interval(days => d)
                       FROM unnest(ARRAY[10, 40]) AS d`);
    const run = await start({ SESSION_RETENTION_DAYS: '30' });
    await waitFor('the run of the service', () => removedBy(run.lines).length > 0);
    await run.service.stop();
    assert.deepEqual(removedBy(run.lines), [{ sessions: 1, refreshTokens: 0, loginThrottles: 0 }]);
    const { rows } = await sql.query<{ days: number }>(`SELECT round(extract(epoch FROM now() - expires_at) / 86400)::int AS days FROM session`);
    assert.deepEqual(rows.map((r) => r.days), [10], 'the session within 30 days stays (the default 7 would have removed it)');
    await sql.query('DELETE FROM session');
  });

  /** The production definition with a schedule a test can wait for: first run at once. */
  async function start(env: Record<string, string> = {}) {
    const { logger, lines } = capturedLogger();
    const definition = { ...identityService, background: (ctx: Parameters<typeof startRetention>[0]) => startRetention(ctx, { firstAfterMs: 0, everyMs: 60_000 }) };
    const service = await startService(definition, { bus, logger, env: { PORT: '0', DATABASE_URL: database.url, ...testTokens().env, ...env } });
    running = service;
    return { service, lines };
  }

  async function left() {
    const { rows } = await sql.query<Record<string, string>>(
      'SELECT (SELECT count(*) FROM session) AS sessions, (SELECT count(*) FROM refresh_token) AS refresh_tokens, (SELECT count(*) FROM login_throttle) AS throttles');
    return { sessions: Number(rows[0]!.sessions), refreshTokens: Number(rows[0]!.refresh_tokens), loginThrottles: Number(rows[0]!.throttles) };
  }

  it('a run that fails is logged as a warning and retried at the next tick; a run that removes nothing logs nothing', async () => {
    const { logger, lines } = capturedLogger();
    let attempts = 0;
    const db = {
      $executeRawUnsafe: async () => {
        attempts += 1;
        if (attempts <= 2) throw new Error('connection terminated unexpectedly');
        return 0;
      },
    } as unknown as IdentityDb;
    const job = startRetention({ prisma: db, logger, config: { sessionRetentionDays: undefined } }, { firstAfterMs: 0, everyMs: 20 });
    await waitFor('a run after the failures', () => attempts >= 6);
    await job.stop();
    const retention = lines.filter((l) => l.msg.startsWith('retention'));
    assert.deepEqual(retention.map((l) => l.level), ['warn', 'warn'], JSON.stringify(retention));
    assert.match(JSON.stringify(retention[0]), /connection terminated unexpectedly/);
    const after = attempts;
    await sleep(60);
    assert.equal(attempts, after, 'no run after stop');
  });
});
