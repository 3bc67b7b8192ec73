import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { staleBecause } from '../../scripts/lib/build-stamp.mjs';

/*
 * The README's production recipe, run as written (issue 14 item 3): its shell block, with this
 * machine's Postgres and the test run's RabbitMQ in its first variables, starts four processes on
 * Postgres + RabbitMQ; then a person signs in with a bearer token (keys), and a sitter's
 * deactivation cascades through identity, scheduling and notifications (databases, migrations,
 * ports, namespace). A step missing from the README fails here.
 */
const root = new URL('../..', import.meta.url).pathname;
const pgBase = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const PG = `${pgBase.protocol}//${pgBase.username ? `${pgBase.username}${pgBase.password ? `:${pgBase.password}` : ''}@` : ''}${pgBase.host}`;
const BUS_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const SERVICES = ['identity', 'directory', 'scheduling', 'notifications'] as const;

function recipe(): string {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const m = /<!-- recipe:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- recipe:end -->/.exec(readme);
  assert.ok(m, 'README.md has the recipe block');
  return m[1]!;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function fourFreePorts(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const first = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await Promise.all([0, 1, 2, 3].map((d) => portFree(first + d)))).every(Boolean)) return first;
  }
  throw new Error('no four consecutive free ports');
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000, stopIf?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const stop = stopIf?.();
    if (stop) throw new Error(stop);
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the README production recipe, on Postgres and RabbitMQ', () => {
  const id = randomBytes(4).toString('hex');
  const prefix = `recipe_${id}`;
  const namespace = `recipe-${id}`;
  const operatorKey = randomBytes(18).toString('base64url');
  let shell: ChildProcess;
  let output = '';
  let first: number;
  const url = (service: (typeof SERVICES)[number]) => `http://127.0.0.1:${first + SERVICES.indexOf(service)}`;

  beforeAll(async () => {
    // The recipe runs dist/: it must be a build of these sources, or the test would test old code.
    const stale = staleBecause();
    if (stale) throw new Error(`dist/ is not a build of the sources (${stale}): npm run build`);
    first = await fourFreePorts();
    // `wait` keeps the shell (and its four children, one process group) until the test ends it.
    shell = spawn('bash', ['-euo', 'pipefail', '-c', `${recipe()}\nwait`], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PG, DB_PREFIX: prefix, FIRST_PORT: String(first), BUS_URL, BUS_NAMESPACE: namespace, ROSTER_OPERATOR_KEY: operatorKey, LOG_LEVEL: 'warn' },
    });
    shell.stdout!.on('data', (c) => void (output += c));
    shell.stderr!.on('data', (c) => void (output += c));
    for (const s of SERVICES) {
      await until(`${s} ready`, async () => {
        const r = await fetch(`${url(s)}/readyz`);
        return r.ok ? true : undefined;
      }, 90_000, () => (shell.exitCode !== null ? `the recipe stopped (exit ${shell.exitCode})` : undefined)).catch((e: Error) => {
        throw new Error(`${e.message}\n--- recipe output ---\n${output}`);
      });
    }
  });

  afterAll(async () => {
    if (shell?.pid) {
      try {
        process.kill(-shell.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 3_000));
      try {
        process.kill(-shell.pid, 'SIGKILL');
      } catch {
        // stopped in time
      }
    }
    rmSync(`${root}/roster-keys.env`, { force: true });
    const admin = new pg.Client({ connectionString: `${PG}/postgres` });
    await admin.connect();
    for (const s of SERVICES) await admin.query(`DROP DATABASE IF EXISTS ${prefix}_${s} WITH (FORCE)`);
    await admin.end();
  });

  it('runs the four services on their own databases and ports; a sitter leaving cascades through all of them', async () => {
    const json = { 'content-type': 'application/json' };
    const operator = { ...json, 'x-operator-key': operatorKey };
    const tenant = await fetch(`${url('directory')}/tenants`, {
      method: 'POST', headers: operator,
      body: JSON.stringify({ name: 'Recipe Pets', owner: { firstName: 'Rita', lastName: 'Recipe', email: `rita@${namespace}.example` } }),
    });
    assert.equal(tenant.status, 201, await tenant.clone().text());
    const { tenantId, ownerId, rootAccountId } = (await tenant.json()) as Record<string, string>;
    const password = 'Recipe-horse-battery-7';
    await until('identity to know the owner', async () => {
      const r = await fetch(`${url('identity')}/logins`, { method: 'POST', headers: { ...operator, 'x-roster-tenant': tenantId! }, body: JSON.stringify({ personId: ownerId, username: namespace, password }) });
      return r.status === 201 ? true : undefined;
    });
    const session = await fetch(`${url('identity')}/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ username: namespace, password }) });
    assert.equal(session.status, 201, 'signed in');
    const { accessToken } = (await session.json()) as { accessToken: string };
    const bearer = { ...json, authorization: `Bearer ${accessToken}` };

    const person = async (body: object) => {
      const r = await fetch(`${url('directory')}/people`, { method: 'POST', headers: bearer, body: JSON.stringify({ accountId: rootAccountId, ...body }) });
      assert.equal(r.status, 201, await r.clone().text());
      return ((await r.json()) as { id: string }).id;
    };
    const sitter = await person({ kind: 'staff', firstName: 'Sid', lastName: 'Sitter', roleKey: 'staff' });
    const client = await person({ kind: 'client', firstName: 'Cleo', lastName: 'Client' });
    const visit = await until('scheduling to know both', async () => {
      const r = await fetch(`${url('scheduling')}/visits`, { method: 'POST', headers: bearer, body: JSON.stringify({ clientId: client, sitterId: sitter, startsAt: '2031-03-03T09:00:00Z', endsAt: '2031-03-03T10:00:00Z' }) });
      return r.status === 201 ? ((await r.json()) as { id: string }).id : undefined;
    });

    const deactivated = await fetch(`${url('directory')}/people/${sitter}/deactivate`, { method: 'POST', headers: bearer, body: JSON.stringify({ reason: 'recipe' }) });
    assert.equal(deactivated.status, 202);
    const { operationId } = (await deactivated.json()) as { operationId: string };
    const operation = await until('the cascade to complete', async () => {
      const r = await fetch(`${url('directory')}/operations/${operationId}`, { headers: bearer });
      const body = (await r.json()) as { status: string; steps: { service: string }[] };
      return body.status === 'completed' ? body : undefined;
    });
    assert.deepEqual([...new Set(operation.steps.map((s) => s.service))].sort(), ['identity', 'notifications', 'scheduling']);
    const after = await fetch(`${url('scheduling')}/visits/${visit}`, { headers: bearer });
    assert.equal(((await after.json()) as { sitterId: string | null }).sitterId, null, 'the visit needs a sitter now');
  });
});
