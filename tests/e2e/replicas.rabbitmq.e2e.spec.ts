import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { migratePostgres } from '@roster/platform/db/database';
import { deleteRabbitNamespaces } from '../../packages/platform/test/support/brokers.js';
import { createTestDatabase, type TestDatabase } from '../../packages/platform/test/support/postgres.js';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { testTokens } from '../../packages/platform/test/support/tokens.js';
import { directoryService } from '../../services/directory/src/service.js';
import { identityService } from '../../services/identity/src/service.js';
import { notificationsService } from '../../services/notifications/src/service.js';
import { schedulingService } from '../../services/scheduling/src/service.js';

const AMQP = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const OPERATOR_KEY = 'replicas-operator-key-0123456789';
const SERVICES = ['identity', 'directory', 'scheduling', 'notifications'] as const;
type Service = (typeof SERVICES)[number];
const REPLICAS = 2;
const PEOPLE = 30;
const root = new URL('../../', import.meta.url);
const main = (service: Service) => new URL(`services/${service}/src/main.ts`, root).pathname;
// Each service's migration folders as its definition lists them (the platform's own tables first).
const migrations = (service: Service) =>
  ({ identity: identityService, directory: directoryService, scheduling: schedulingService, notifications: notificationsService })[service].migrationFolders;
const node = ['--conditions=roster-source', '--import', 'tsx'];

interface Replica {
  service: Service;
  index: number;
  url: string;
  child: ChildProcess;
  output: string;
  exit: Promise<number | null>;
}

/** `n` distinct ports nobody listens on right now (the OS picks them; processes need them known in advance). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, async () => {
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, resolve));
    return server;
  }));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Sums the samples of a Prometheus counter whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

// Rule 10's production footprint scaled out: two processes of every service on one database per
// service and one RabbitMQ namespace. Replicas compete for events and share the outbox safely.
describe('two replicas of every service (Postgres + RabbitMQ)', () => {
  const namespace = `replicas-${randomUUID().slice(0, 8)}`;
  const tokens = testTokens();
  let tenantId: string;
  let accountId: string;
  let owner: string;
  const databases = new Map<Service, TestDatabase>();
  const replicas: Replica[] = [];
  const of = (service: Service) => replicas.filter((r) => r.service === service);
  const logs = () => replicas.map((r) => `--- ${r.service}#${r.index} (${r.url})\n${r.output.slice(-3000)}`).join('\n');

  beforeAll(async () => {
    // One fresh database per service, migrated once, shared by the service's replicas.
    for (const service of SERVICES) {
      const db = await createTestDatabase(`roster_replicas_${service}`);
      databases.set(service, db);
      await migratePostgres(db.url, migrations(service));
    }
    const ports = await freePorts(SERVICES.length * REPLICAS);
    for (const service of SERVICES) {
      for (let index = 0; index < REPLICAS; index++) {
        const port = ports.pop()!;
        const child = spawn(process.execPath, [...node, main(service)], {
          env: {
            ...process.env, PORT: String(port), DATABASE_URL: databases.get(service)!.url, DB_MIGRATE: 'false', BUS_URL: AMQP,
            BUS_NAMESPACE: namespace, ROSTER_OPERATOR_KEY: OPERATOR_KEY, LOG_LEVEL: 'warn', DB_POOL_SIZE: '4', ...tokens.env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const replica: Replica = {
          service, index, url: `http://127.0.0.1:${port}`, child, output: '',
          exit: once(child, 'exit').then(([code]) => code as number | null),
        };
        child.stdout!.on('data', (d) => (replica.output += d));
        child.stderr!.on('data', (d) => (replica.output += d));
        replicas.push(replica);
      }
    }
    try {
      await Promise.all(replicas.map((r) =>
        waitFor(`${r.service}#${r.index} to be ready`, async () => {
          if (r.child.exitCode !== null) throw new Error(`exited with ${r.child.exitCode}`);
          return (await fetch(`${r.url}/readyz`)).status === 200;
        }, 45_000, 200),
      ));
      // Each port answered by the process spawned for it (not another replica that took it first).
      await sleep(300);
      assert.deepEqual(replicas.filter((r) => r.child.exitCode !== null).map((r) => `${r.service}#${r.index}`), [], 'no replica exited');
      await Promise.all(replicas.map(async (r) => {
        const text = await (await fetch(`${r.url}/metrics`)).text();
        assert.match(text, new RegExp(`service="${r.service}"`), `${r.url} is ${r.service}`);
      }));
    } catch (error) {
      throw new Error(`${String(error)}\n${logs()}`);
    }
  });

  afterAll(async () => {
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await Promise.race([Promise.all(replicas.map((r) => r.exit)), sleep(15_000, undefined, { ref: false })]);
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exit));
    await Promise.allSettled([...databases.values()].map((d) => d.drop()));
    await deleteRabbitNamespaces(AMQP, [namespace]);
  });

  const call = async (replica: Replica, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${replica.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${owner}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const metrics = async (service: Service) => Promise.all(of(service).map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
  const perReplica = async (service: Service, name: string, labels: Record<string, string>) =>
    (await metrics(service)).map((text) => sample(text, name, labels));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  it(`deactivating ${PEOPLE} people through both directory replicas: every cascade completes once, the work is shared, nothing is published or handled twice`, async () => {
    const directory = of('directory');
    const tenant = await fetch(`${directory[0]!.url}/tenants`, {
      method: 'POST',
      headers: { 'x-operator-key': OPERATOR_KEY, 'x-roster-tenant': randomUUID(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Replica Pets', owner: { firstName: 'Olive', lastName: 'Owner', email: 'olive@replicas.example' } }),
    });
    assert.equal(tenant.status, 201);
    const created = (await tenant.json()) as { tenantId: string; rootAccountId: string; ownerId: string };
    ({ tenantId, rootAccountId: accountId } = created);
    owner = tokens.mint({ tenantId, personId: created.ownerId, roles: ['owner'] });
    const started = Date.now();

    // Requests alternate between the two directory replicas, as a load balancer would spread them.
    const ids = await Promise.all(Array.from({ length: PEOPLE }, async (_, i) => {
      const res = await call(directory[i % REPLICAS]!, 'POST', '/people', {
        kind: 'staff', firstName: `Sam${i}`, lastName: 'Sitter', email: `sam${i}@example.com`, accountId, roleKey: 'staff',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    }));
    const operationIds = await Promise.all(ids.map(async (id, i) => {
      const res = await call(directory[(i + 1) % REPLICAS]!, 'POST', `/people/${id}/deactivate`, { reason: 'left the company' });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.operationId as string;
    }));

    // Either replica answers for any operation: they read the same database.
    const operations = await Promise.all(operationIds.map((id, i) =>
      waitFor(`operation ${id} to finish`, async () => {
        const res = await call(directory[i % REPLICAS]!, 'GET', `/operations/${id}`);
        return res.status === 200 && res.body.status !== 'pending' ? res.body : null;
      }, 30_000, 100).catch((error) => { throw new Error(`${String(error)}\n${logs()}`); }),
    ));
    const settledMs = Date.now() - started;

    for (const op of operations) {
      assert.equal(op.status, 'completed', JSON.stringify(op));
      const services = op.steps.map((s: { service: string }) => s.service).sort();
      assert.deepEqual(services, ['identity', 'notifications', 'scheduling'], `one step from each service, none twice: ${JSON.stringify(op.steps)}`);
      assert.deepEqual(op.waitingFor, []);
    }
    for (const [i, id] of ids.entries()) {
      assert.equal((await call(directory[i % REPLICAS]!, 'GET', `/people/${id}`)).body.status, 'inactive');
    }

    // Counters are bumped just after the handler or the broker's confirm: let them settle, then
    // check they stay exact (a late duplicate would push a sum past N).
    const published = (type: string) => perReplica('directory', 'roster_events_published_total', { type });
    const handled = (group: Service, type: string) =>
      perReplica(group, 'roster_events_consumed_total', { group, type, outcome: 'handled' });
    const everything = async () => ({
      publishedCreated: await published('user.created'),
      publishedDeactivated: await published('user.deactivated'),
      identity: await handled('identity', 'user.deactivated'),
      scheduling: await handled('scheduling', 'user.deactivated'),
      notifications: await handled('notifications', 'user.deactivated'),
      schedulingCreated: await handled('scheduling', 'user.created'),
      steps: await handled('directory', 'cascade.step.completed'),
    });
    await waitFor('the counters to reach the expected totals', async () => {
      const m = await everything();
      return sum(m.publishedDeactivated) >= PEOPLE && sum(m.scheduling) >= PEOPLE && sum(m.identity) >= PEOPLE
        && sum(m.notifications) >= PEOPLE && sum(m.steps) >= 3 * PEOPLE;
    }, 10_000, 100);
    await sleep(1_000);
    const m = await everything();
    console.log(`${PEOPLE} cascades settled in ${settledMs} ms; per replica: ${JSON.stringify(m)}`);

    // Outbox relays: every event published exactly once across both directory replicas.
    assert.equal(sum(m.publishedCreated), PEOPLE + 1, // and the tenant's owner
      `user.created published ${JSON.stringify(m.publishedCreated)}`);
    assert.equal(sum(m.publishedDeactivated), PEOPLE, `user.deactivated published ${JSON.stringify(m.publishedDeactivated)}`);
    // Competing consumers: each event handled once by the group, and both replicas took a share.
    for (const group of ['identity', 'scheduling', 'notifications'] as const) {
      assert.equal(sum(m[group]), PEOPLE, `${group} handled user.deactivated ${JSON.stringify(m[group])}`);
      for (const [i, n] of m[group].entries()) assert.ok(n > 0, `${group}#${i} handled none of the ${PEOPLE} user.deactivated: ${JSON.stringify(m[group])}`);
    }
    assert.equal(sum(m.schedulingCreated), PEOPLE + 1, `scheduling handled user.created ${JSON.stringify(m.schedulingCreated)}`);
    assert.equal(sum(m.steps), 3 * PEOPLE, `directory handled cascade.step.completed ${JSON.stringify(m.steps)}`);
    for (const [i, n] of m.steps.entries()) assert.ok(n > 0, `directory#${i} handled no cascade step: ${JSON.stringify(m.steps)}`);
    // Nothing retried or dead-lettered on the way.
    for (const service of SERVICES) {
      for (const text of await metrics(service)) {
        assert.equal(sample(text, 'roster_events_consumed_total', { outcome: 'retried' }), 0,
          `${service} retried events: ${text.split('\n').filter((l) => l.includes('outcome="retried"') && !l.endsWith(' 0')).join('; ')}`);
        assert.equal(sample(text, 'roster_dead_letters_total', {}), 0, `${service} dead-lettered events`);
      }
    }
    // Every outbox drained, as each replica reports it (the gauge is refreshed about every second).
    await waitFor('every replica to report an empty outbox', async () =>
      (await Promise.all(SERVICES.map(metrics))).flat().every((text) => /^roster_outbox_pending\{[^}]*\} 0$/m.test(text)), 5_000, 200);
  });

  it('every replica stops cleanly on SIGTERM', async () => {
    for (const r of replicas) r.child.kill('SIGTERM');
    const codes = await Promise.race([
      Promise.all(replicas.map((r) => r.exit)),
      sleep(20_000, undefined, { ref: false }).then(() => replicas.map((r) => r.child.exitCode)),
    ]);
    assert.deepEqual(codes, replicas.map(() => 0), logs());
  });
});
