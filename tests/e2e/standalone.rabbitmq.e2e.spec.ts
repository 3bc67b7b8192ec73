import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { deleteRabbitNamespaces } from '../../packages/platform/test/support/brokers.js';
import { createTestDatabase, type TestDatabase } from '../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../packages/platform/test/support/wait.js';

const AMQP = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const main = (service: string) => new URL(`../../services/${service}/src/main.ts`, import.meta.url).pathname;
const node = ['--conditions=roster-source', '--import', 'tsx'];

// Production footprint (rule 10): one process per service, Postgres, RabbitMQ, stopped by SIGTERM.
describe('a service alone in production mode (Postgres + RabbitMQ)', () => {
  let database: TestDatabase;
  let child: ChildProcess | undefined;
  let output = '';
  beforeAll(async () => {
    database = await createTestDatabase('roster_standalone');
  });
  const namespace = `standalone-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await database?.drop();
    await deleteRabbitNamespaces(AMQP, [namespace]);
  });

  it('starts, answers /readyz, handles a request and stops cleanly on SIGTERM', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    child = spawn(process.execPath, [...node, main('directory')], {
      env: {
        ...process.env, PORT: String(port), DATABASE_URL: database.url, DB_MIGRATE: 'true', BUS_URL: AMQP,
        BUS_NAMESPACE: namespace, ROSTER_OPERATOR_KEY: 'operator-key-for-tests', LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const base = `http://127.0.0.1:${port}`;
    const ready = await waitFor('readiness', async () => {
      const res = await fetch(`${base}/readyz`);
      return res.status === 200 ? res.json() : null;
    }, 30_000, 200);
    assert.deepEqual(ready, { status: 'ready', checks: { database: true, bus: true } });

    const res = await fetch(`${base}/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': 'operator-key-for-tests', 'x-roster-tenant': randomUUID() },
      body: JSON.stringify({ name: 'Standalone Pets', owner: { firstName: 'Olive', lastName: 'Owner', email: 'olive@standalone.example' } }),
    });
    assert.equal(res.status, 201);

    const metrics = await waitFor('the published event in /metrics', async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return /roster_events_published_total\{[^}]*type="user.created"[^}]*\} 1/.test(text) ? text : null;
    }, 10_000, 100);
    assert.match(metrics, /http_requests_total\{[^}]*method="POST"[^}]*route="\/tenants"[^}]*status_code="201"[^}]*\} 1/);
    assert.match(metrics, /roster_outbox_pending\{[^}]*\} 0/);
    assert.match(metrics, /roster_dead_letters_total|roster_consumer_lag_seconds/);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output);
    assert.match(output, /"msg":"directory stopped"/);
    assert.doesNotMatch(output, /operator-key-for-tests/, 'the operator key never reaches the logs');
  });

  it('refuses to start with an invalid configuration, saying which variable is wrong', () => {
    const r = spawnSync(process.execPath, [...node, main('scheduling')], {
      env: { ...process.env, PORT: 'not-a-port', DATABASE_URL: database.url, BUS_URL: AMQP }, encoding: 'utf8', timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /scheduling failed to start: invalid configuration for scheduling:\n\s+PORT/);
  });

  it('says which port is taken when it cannot listen', async () => {
    const { createServer } = await import('node:http');
    const blocker = createServer().listen(0);
    await once(blocker, 'listening');
    const taken = (blocker.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, [...node, main('notifications')], {
        env: { ...process.env, PORT: String(taken), DATABASE_URL: 'pglite:memory', BUS_URL: 'memory:', LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`notifications failed to start: cannot listen on port ${taken}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });
});
