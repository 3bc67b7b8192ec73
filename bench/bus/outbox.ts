import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Actor } from '@roster/contracts';
import { createBus } from '@roster/platform/bus/index';
import type { Bus, Subscription } from '@roster/platform/bus/types';
import { migratePostgres, openDatabase, type Database } from '@roster/platform/db/database';
import { OutboxRelay } from '@roster/platform/outbox';
import pg from 'pg';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../../packages/platform/test/support/postgres.js';
import { makeClient, type DirectoryDb } from '../../services/directory/src/db/client.js';
import { createPerson, type NewPerson } from '../../services/directory/src/people/commands.js';
import { provisionTenant } from '../../services/directory/src/tenants/provision.js';
import { directoryService } from '../../services/directory/src/service.js';
import { GROUP } from './adapters.js';
import { benchLogger, config, progress } from './config.js';
import { concurrently, cpuMeter, Durations, Tracker, type PathResult } from './measure.js';

const OPERATOR: Actor = { kind: 'operator', personId: null, impersonatorId: null };
/** The directory's defaults (DB_POOL_SIZE, the relay's batch size and poll interval). */
const POOL_SIZE = 10;
/** BATCH_LINGER_MS's default: the relay gathers what commits within it into one batch, as the directory's does. */
const RELAY_LINGER_MS = 10;

// E-mail and phone identify a person in a tenant (P8): each bench person (warm-ups and rounds
// included) has their own.
let serial = 0;
const person = (i: number, accountId: string = randomUUID()): NewPerson => {
  const n = serial++;
  return {
    kind: 'staff', firstName: `Sam${i}`, lastName: 'Bench', email: `sam${n}@bench.example`,
    phone: `+447400${String(n).padStart(6, '0')}`, accountId, roleKey: 'staff',
  };
};
const TENANT_ID = randomUUID();

/** A fresh, migrated directory database; `drop()` when done. */
export async function directoryDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('roster_bench');
  await migratePostgres(database.url, directoryService.migrationFolders);
  return database;
}

/**
 * Drops the database once its pools have really gone: `pg.Pool#end()` resolves before its
 * sockets are closed, and `DROP … WITH (FORCE)` terminating such a closing client makes the pool
 * emit an unhandled 'error'. So wait (up to 5 s) for the database to have no session first.
 */
export async function dropWhenIdle(database: TestDatabase): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
      if (Number(rows[0]?.n ?? 0) === 0) break;
      await sleep(50);
    }
  } finally {
    await admin.end();
  }
  await database.drop();
}

/**
 * What Postgres does here without Prisma or the relay: the same two rows per transaction as
 * `createPerson` (a person and its outbox row), as BEGIN / INSERT / INSERT / COMMIT on a pg pool of
 * the service's size, with the same number of concurrent writers. Latency: one transaction.
 */
export async function plainTransactions(url: string, count: number): Promise<PathResult> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  pool.on('error', (error) => console.error(`  plain pg pool: ${error.message}`)); // an idle client's error must not end the run
  let durations = new Durations();
  const write = async (i: number) => {
    const started = performance.now();
    const client = await pool.connect();
    try {
      const id = randomUUID();
      const p = person(i);
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO person (id, tenant_id, kind, first_name, last_name, email, phone, account_id, role_key, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, now())`,
        [id, TENANT_ID, p.kind, p.firstName, p.lastName, p.email, p.phone, p.accountId, p.roleKey],
      );
      const envelope = {
        specversion: '1.0', id: randomUUID(), source: '/roster/directory', type: 'user.created', subject: id,
        time: new Date().toISOString(), datacontenttype: 'application/json', dataversion: 1, tenantid: TENANT_ID,
        correlationid: randomUUID(), subjectversion: 1,
        data: { personId: id, ...p, roleKey: p.roleKey, actor: OPERATOR },
      };
      await client.query('INSERT INTO outbox (id, type, subject, envelope) VALUES ($1, $2, $3, $4::jsonb)',
        [envelope.id, envelope.type, id, JSON.stringify(envelope)]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    durations.add(performance.now() - started);
  };
  try {
    await concurrently(Math.min(500, count), config.writers, write); // warm-up
    durations = new Durations();
    durations.begin();
    const cpu = cpuMeter();
    await concurrently(count, config.writers, write);
    return {
      ...durations.result('plain pg tx (BEGIN, 2×INSERT, COMMIT)', 'postgres', 'transaction (BEGIN → COMMIT done)',
        `${config.writers} writers, pool ${POOL_SIZE}`),
      cpuUsPerEvent: cpu.perEvent(count),
    };
  } finally {
    await pool.query('TRUNCATE person, outbox CASCADE');
    await pool.end();
  }
}

/**
 * The directory's real write path: `createPerson` (POST /people's transaction on the driver —
 * Database.sql — writing the person, its membership, audit line and outbox row) from `writers` concurrent callers, each nudging an `OutboxRelay` (the directory's
 * defaults: batch 200, poll 250 ms, linger 10 ms) that publishes to `busUrl`; one subscribed group consumes
 * `user.created`. Two rows: the writes alone (call → commit), and commit → consumer's handler.
 */
export async function outboxPath(url: string, busName: string, busUrl: string, count: number): Promise<PathResult[]> {
  let db: Database<DirectoryDb> | null = null;
  let bus: Bus | null = null;
  let subscription: Subscription | null = null;
  let relay: OutboxRelay | null = null;
  try {
    db = await openDatabase({ url, migrationFolders: directoryService.migrationFolders, migrate: false, poolSize: POOL_SIZE }, makeClient);
    bus = await createBus(busUrl, { namespace: `${config.namespace}-outbox`, logger: benchLogger, instanceId: 'bench' });
    await bus.connect();
    // The directory checks the account: a tenant of its own, provisioned as POST /tenants does.
    const tenant = await provisionTenant(db.client, { name: `Bench ${busName}`, owner: { firstName: 'Olive', lastName: 'Owner', email: `owner-${randomUUID()}@bench.example` } });
    let tracker = new Tracker(Math.min(500, count), false);
    subscription = await bus.subscribe({ group: GROUP, types: ['user.created'], handler: async (e) => tracker.arrive(e.subject) });
    relay = new OutboxRelay({ db: db.client, transactions: db.sql, bus, logger: benchLogger, lingerMs: RELAY_LINGER_MS });
    relay.start();

    let writes = new Durations();
    const transactions = db.sql;
    const activeRelay = relay;
    const write = async (i: number) => {
      const started = performance.now();
      const created = await createPerson(transactions, tenant.tenantId, person(i, tenant.rootAccountId), OPERATOR);
      const committed = performance.now();
      tracker.start(created.id, committed);
      writes.add(committed - started);
      activeRelay.nudge();
    };

    await concurrently(tracker.expected, config.writers, write); // warm-up: pools, prepared statements, JIT
    await tracker.done(config.timeoutSeconds * 1000, `outbox → ${busName} (warm-up)`);
    // The statistics a live directory has (autovacuum analyzes it within a minute of such writes;
    // this run is over sooner). Planned on the just-emptied table, the duplicate check's cached
    // plan walks every person of the tenant instead of the e-mail and phone indexes.
    await db.client.$executeRawUnsafe('ANALYZE person');

    tracker = new Tracker(count, false);
    writes = new Durations();
    writes.begin();
    tracker.begin();
    const cpu = cpuMeter();
    await concurrently(count, config.writers, write);
    await tracker.done(config.timeoutSeconds * 1000, `outbox → ${busName}`);
    const cpuUsPerEvent = cpu.perEvent(count);
    progress(`outbox → ${busName}: ${count} people created and consumed`);
    const shape = `${config.writers} writers, pool ${POOL_SIZE}, relay batch 200`;
    return [
      writes.result(`outbox → ${busName}: createPerson commits`, 'postgres', 'createPerson call → commit', shape),
      { ...tracker.result(`outbox → ${busName}: commit → consumed`, 'outbox', 'commit → handler start', shape), cpuUsPerEvent },
    ];
  } finally {
    await relay?.stop(5_000).catch(() => undefined);
    await subscription?.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    if (db) {
      await db.client.$executeRawUnsafe('TRUNCATE person, outbox CASCADE').catch(() => undefined);
      await db.close().catch(() => undefined);
    }
  }
}
