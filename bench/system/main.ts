// bench-needs: postgres rabbitmq kafka
//
// System benchmark: sustained deactivation cascades per second through all four services on
// Postgres + RabbitMQ and on Postgres + Kafka, with cascade completion p50/p99 under that load,
// next to two baselines measured in the same run: `pgbench -N` (simple write transactions per
// second on the same Postgres) and the raw broker rate (bench/bus's raw amqplib / kafkajs loops).
// Goal: cascades/s ≥ 10% of pgbench's tps. See bench/system/README.md.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import type { EventEnvelope } from '@roster/contracts';
import { deactivation } from '../../packages/platform/test/support/events.js';
import { ADMIN_DATABASE_URL } from '../../packages/platform/test/support/postgres.js';
import { addUpcomingVisits, provisionTenant } from '../../tests/e2e/faults-support.js';
import { startSystem } from '../../tests/e2e/support/system.js';
import { cleanKafka, type BusPath } from '../bus/adapters.js';
import { config as busConfig } from '../bus/config.js';
import { concurrently, percentile, publishInBatches, Tracker } from '../bus/measure.js';
import { RawAmqpPath } from '../bus/raw-amqp.js';
import { RawKafkaPath } from '../bus/raw-kafka.js';

const run = promisify(execFile);
const int = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const config = {
  cascades: int('BENCH_CASCADES', 1_000),
  concurrency: int('BENCH_CONCURRENCY', 32),
  pgbenchSeconds: int('BENCH_PGBENCH_SECONDS', 10),
  brokerEvents: int('BENCH_EVENTS', 20_000),
  amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  kafkaUrl: process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092',
  skip: new Set((process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
};
const progress = (msg: string) => process.stderr.write(`[system] ${msg}\n`);

interface Row { measure: string; value: number; unit: string; note: string }
const rows: Row[] = [];

/** `pgbench -N` (no updates of the few hot rows: simple write transactions) on a scratch database. */
async function pgbenchTps(): Promise<number> {
  const admin = new URL(ADMIN_DATABASE_URL);
  const name = `roster_bench_pgbench_${randomUUID().slice(0, 8)}`;
  const args = ['-h', admin.hostname, '-p', admin.port || '5432', '-U', admin.username || 'postgres'];
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  try {
    await run('pgbench', [...args, '-i', '-q', '-s', '4', name], { timeout: 120_000 });
    const { stdout } = await run('pgbench', [...args, '-N', '-c', '8', '-j', '2', '-T', String(config.pgbenchSeconds), name], { timeout: 120_000 });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`no tps in pgbench's output: ${stdout}`);
    return Number(tps[1]);
  } finally {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  }
}

/** Events/s through a raw broker loop (bench/bus), saturated, one consuming group. */
async function rawBrokerRate(path: BusPath): Promise<number> {
  const events: EventEnvelope[] = Array.from({ length: config.brokerEvents }, () => deactivation(randomUUID(), 1, 'tenant-bench'));
  const tracker = new Tracker(events.length);
  await path.setup((id) => tracker.arrive(id));
  try {
    await publishInBatches(events, (e) => e.id, busConfig, tracker, (b) => path.publish(b));
    await tracker.done(120_000, path.name);
    return tracker.result(path.name, 'bus', 'publish → handler', '').perSecond;
  } finally {
    await path.teardown();
  }
}

interface CascadeResult { perSecond: number; p50Ms: number; p99Ms: number; maxMs: number; cascades: number }

/**
 * The four services (in this process, each with its own Postgres database and bus connection),
 * `cascades` sitters with two upcoming visits each, then every sitter deactivated over HTTP with
 * `concurrency` requests in flight. Latency = the operation's creation → completion (both the
 * directory database's clock); throughput = cascades ÷ (first creation → last completion).
 */
async function cascades(busUrl: string): Promise<CascadeResult> {
  const system = await startSystem({ busUrl, database: 'postgres' });
  try {
    const { tenantId, accountId } = await provisionTenant(system.url('directory'), system.operator, 'Bench Pets');
    const headers = { ...system.operator(tenantId), 'content-type': 'application/json' };
    const schedulingAuth = system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never);
    const directory = new pg.Pool({ connectionString: system.envOf('directory').DATABASE_URL, max: 2 });
    const post = async (path: string, body: unknown) => {
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${system.url('directory')}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
        const json = await res.json() as Record<string, string>;
        if (res.status < 300) return json;
        if (res.status < 500 || attempt >= 5) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      }
    };
    try {
      const clientId = (await post('/people', { kind: 'client', firstName: 'Cy', lastName: 'Client', accountId })).id!;
      progress(`${busUrl}: ${config.cascades} sitters with two upcoming visits each (through the APIs)`);
      const sitters: string[] = [];
      await concurrently(config.cascades, 16, async () => {
        const { id } = await post('/people', { kind: 'staff', firstName: 'Bo', lastName: 'Bench', accountId, roleKey: 'staff' });
        sitters.push(id!);
        await addUpcomingVisits(system.url('scheduling'), schedulingAuth, clientId, id!, 2);
      });

      progress(`${busUrl}: deactivating ${sitters.length} sitters, ${config.concurrency} requests in flight`);
      const operations: string[] = [];
      await concurrently(sitters.length, config.concurrency, async (i) => {
        operations.push((await post(`/people/${sitters[i]}/deactivate`, {})).operationId!);
      });
      // Complete when every expected service reported a step (what GET /operations/{id} derives);
      // completion time = the last step's time, as the directory records it.
      const deadline = Date.now() + (busUrl.startsWith('kafka') ? 120_000 : 300_000);
      let ops: { created: Date; completed: Date }[] = [];
      for (;;) {
        ({ rows: ops } = await directory.query<{ created: Date; completed: Date }>(
          `SELECT o.created_at AS created, max(s.at) AS completed FROM operation o JOIN operation_step s ON s.operation_id = o.id
            WHERE o.id = ANY($1::uuid[]) GROUP BY o.id, o.created_at, o.expected HAVING count(DISTINCT s.service) >= cardinality(o.expected)`, [operations]));
        if (ops.length === operations.length) break;
        if (Date.now() > deadline) throw new Error(`only ${ops.length} of ${operations.length} cascades completed`);
        await new Promise((res) => setTimeout(res, 200));
      }
      const latencies = ops.map((o) => o.completed.getTime() - o.created.getTime()).sort((a, b) => a - b);
      const first = Math.min(...ops.map((o) => o.created.getTime()));
      const last = Math.max(...ops.map((o) => o.completed.getTime()));
      return {
        perSecond: ops.length / ((last - first) / 1000), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99),
        maxMs: latencies.at(-1)!, cascades: ops.length,
      };
    } finally {
      await directory.end();
    }
  } finally {
    await system.stop();
  }
}

const results: Record<string, unknown> = { config: { ...config, skip: [...config.skip] }, cpus: cpus().length, at: new Date().toISOString() };

progress(`pgbench -N for ${config.pgbenchSeconds} s`);
const tps = await pgbenchTps();
rows.push({ measure: 'pgbench -N (8 clients)', value: tps, unit: 'tx/s', note: 'baseline: simple write transactions on the same Postgres' });
results.pgbenchTps = tps;

for (const transport of ['rabbitmq', 'kafka'] as const) {
  if (config.skip.has(transport)) continue;
  const namespace = `bench-system-${randomUUID().slice(0, 8)}`;
  progress(`${transport}: raw broker loop, ${config.brokerEvents} events`);
  const raw = transport === 'rabbitmq' ? new RawAmqpPath(namespace, busConfig.prefetch) : new RawKafkaPath(namespace);
  const rate = await rawBrokerRate(raw);
  if (transport === 'kafka') await cleanKafka(namespace).catch(() => undefined);
  rows.push({ measure: `${transport}: raw broker loop`, value: rate, unit: 'events/s', note: `baseline: ${raw.name}, persistent, confirmed, one group` });
  let c: CascadeResult;
  try {
    c = await cascades(transport === 'rabbitmq' ? config.amqpUrl : config.kafkaUrl);
  } catch (error) {
    // Reported in the table rather than hidden: a path that cannot complete its cascades has no figure.
    const reason = error instanceof Error ? error.message : String(error);
    progress(`${transport}: cascades failed: ${reason}`);
    rows.push({ measure: `${transport}: deactivation cascades`, value: Number.NaN, unit: 'cascades/s', note: `FAILED: ${reason}` });
    results[transport] = { rawBrokerEventsPerSecond: rate, failed: reason };
    continue;
  }
  rows.push({ measure: `${transport}: deactivation cascades`, value: c.perSecond, unit: 'cascades/s', note: `${(100 * c.perSecond / tps).toFixed(1)}% of pgbench tps (goal ≥ 10%); ${c.cascades} cascades, ${config.concurrency} requests in flight` });
  rows.push({ measure: `${transport}: cascade completion p50`, value: c.p50Ms, unit: 'ms', note: 'request committed → every step folded (under that load)' });
  rows.push({ measure: `${transport}: cascade completion p99`, value: c.p99Ms, unit: 'ms', note: `max ${Math.round(c.maxMs)} ms` });
  results[transport] = { rawBrokerEventsPerSecond: rate, ...c, ofPgbench: c.perSecond / tps };
}

const fmt = (n: number) => (Number.isNaN(n) ? '—' : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(1));
console.log('| measure | value | unit | note |\n|---|---:|---|---|');
for (const r of rows) console.log(`| ${r.measure} | ${fmt(r.value)} | ${r.unit} | ${r.note} |`);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
const file = new URL(`../results/system-${Date.now()}.json`, import.meta.url);
writeFileSync(file, `${JSON.stringify({ ...results, rows }, null, 2)}\n`);
progress(`results in ${file.pathname}`);
process.exit(0);
