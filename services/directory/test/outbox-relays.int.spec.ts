import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { EventEnvelope } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { migratePostgres, openDatabase, type Database } from '@roster/platform/db/database';
import { eventFor, OutboxRelay, stageEvents } from '@roster/platform/outbox';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { DirectoryDb } from '../src/db/client.js';
import { directoryService } from '../src/service.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

// Rule 10: the outbox relay is safe with several replicas: each event is published once and in
// the order it was written, whichever replica publishes it.
describe('outbox relays of two replicas on one database (Postgres)', () => {
  let database: TestDatabase;
  const dbs: Database<DirectoryDb>[] = [];
  beforeAll(async () => {
    database = await createTestDatabase('roster_relays');
    await migratePostgres(database.url, directoryService.migrationFolders);
    for (let i = 0; i < 2; i++) {
      dbs.push(await openDatabase({ url: database.url, migrationFolders: directoryService.migrationFolders, migrate: false, poolSize: 4 }, directoryService.makeClient));
    }
  });
  afterAll(async () => {
    await Promise.allSettled(dbs.map((d) => d.close()));
    await database?.drop();
  });

  it('publishes every event exactly once, in write order, while both relays run', async () => {
    const bus = new MemoryBus();
    const seen: EventEnvelope[] = [];
    await bus.subscribe({ group: 'watcher', types: ['user.updated'], concurrency: 1, handler: async (e) => void seen.push(e) });
    const relays = dbs.map((d) => new OutboxRelay({ db: d.client, bus, logger: silent, batchSize: 25, pollIntervalMs: 5 }));
    relays.forEach((r) => r.start());
    const tenantId = randomUUID();
    const subject = randomUUID();
    const written: string[] = [];
    try {
      // Written through both replicas' connections, in 40 transactions of 10, with both relays nudged.
      for (let batch = 0; batch < 40; batch++) {
        const db = dbs[batch % 2]!.client;
        const events = Array.from({ length: 10 }, (_, i) => eventFor('directory', {
          type: 'user.updated', subject, tenantId, correlationId: randomUUID(), subjectVersion: batch * 10 + i + 1,
          data: { personId: subject, kind: 'staff', firstName: 'Ada', lastName: `L${batch * 10 + i}`, email: null, phone: null, actor: { kind: 'system', personId: null, impersonatorId: null } },
        }));
        await db.$transaction(async (tx) => stageEvents(tx, events));
        written.push(...events.map((e) => e.id));
        relays.forEach((r) => r.nudge());
      }
      await waitFor('400 events', () => seen.length >= 400, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 400, 'no event published twice');
      assert.deepEqual(seen.map((e) => e.id), written, 'published in write order');
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
  });

  it('keeps an unpublished batch, with its attempts and the last error, until the bus takes it', async () => {
    const broken = new MemoryBus();
    await broken.close(); // publishing now fails, as during a broker outage
    const relay = new OutboxRelay({ db: dbs[0]!.client, bus: broken, logger: silent, pollIntervalMs: 5 });
    const subject = randomUUID();
    const event = eventFor('directory', {
      type: 'user.updated', subject, tenantId: randomUUID(), correlationId: randomUUID(), subjectVersion: 1,
      data: { personId: subject, kind: 'client', firstName: 'Bo', lastName: 'Broker', email: null, phone: null, actor: { kind: 'system', personId: null, impersonatorId: null } },
    });
    await dbs[0]!.client.$transaction(async (tx) => stageEvents(tx, [event]));
    relay.start();
    const row = await waitFor('the failure on the row', async () => {
      const [r] = await dbs[0]!.client.$queryRawUnsafe<{ attempts: number; last_error: string | null; published_at: Date | null }[]>(
        'SELECT attempts, last_error, published_at FROM outbox WHERE id = $1', event.id);
      return r && r.attempts >= 1 ? r : null;
    });
    await relay.stop(100);
    assert.equal(row.published_at, null);
    assert.match(row.last_error ?? '', /memory bus is closed/);

    const bus = new MemoryBus();
    const got: string[] = [];
    await bus.subscribe({ group: 'watcher', types: ['user.updated'], handler: async (e) => void got.push(e.id) });
    const healthy = new OutboxRelay({ db: dbs[1]!.client, bus, logger: silent, pollIntervalMs: 5 });
    healthy.start();
    try {
      await waitFor('the event once the bus is back', () => got.includes(event.id));
    } finally {
      await healthy.stop();
    }
  });
});
