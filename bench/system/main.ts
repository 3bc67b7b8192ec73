// bench-needs: postgres rabbitmq kafka
//
// System benchmark (issue 7): on Postgres + RabbitMQ and on Postgres + Kafka, in one run with two
// baselines (`pgbench -N` tps on the same Postgres, the raw broker rate of bench/bus's loops):
// revocation p50/p99 (goal p99 ≤ 250 ms), sustained deactivation cascades/s (goal ≥ 10% of
// pgbench's tps) with completion p50/p99 under that load and what a cascade costs (commits, events,
// CPU), revocation p50/p99 while a second cascade load runs, a sitter with 1,000 and 100,000
// upcoming visits leaving, and one staff member given 1,000 accounts (P4). One Markdown table on stdout,
// every figure in bench/results/system-<timestamp>.json. See bench/system/README.md.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import type { EventEnvelope } from '@roster/contracts';
import { deactivation } from '../../packages/platform/test/support/events.js';
import { ADMIN_DATABASE_URL } from '../../packages/platform/test/support/postgres.js';
import { provisionTenant } from '../../tests/e2e/faults-support.js';
import { startSystem, type System } from '../../tests/e2e/support/system.js';
import { cleanKafka, type BusPath } from '../bus/adapters.js';
import { config as busConfig } from '../bus/config.js';
import { publishInBatches, Tracker } from '../bus/measure.js';
import { RawAmqpPath } from '../bus/raw-amqp.js';
import { RawKafkaPath } from '../bus/raw-kafka.js';
import { measureRevocations, revocationSubjects, revokeOneByOne, type Revocations } from '../revocation/measure.js';
import { percentile } from '../stats.js';
import { bulkAccess, type BulkAccessResult } from './bulk-access.js';
import { directoryPoster, sustainedCascades, type CascadeOptions, type CascadeResult, type Tenant } from './cascades.js';
import { SystemMeter, type Transport } from './resources.js';
import { sitterLeaves, type SitterResult } from './sitters.js';

const run = promisify(execFile);
const int = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const config = {
  cascades: int('BENCH_CASCADES', 1_000),
  concurrency: int('BENCH_CONCURRENCY', 32),
  pgbenchSeconds: int('BENCH_PGBENCH_SECONDS', 10),
  brokerEvents: int('BENCH_EVENTS', 20_000),
  revocations: int('BENCH_REVOCATIONS', 20),
  /** Cascades of the second load, beside which people are revoked one at a time (0: not measured). */
  loadCascades: int('BENCH_LOAD_CASCADES', 1_500),
  /** The paced load: this share of the sustained rate (percent; 0: not measured), for `pacedSeconds`. */
  pacedShare: int('BENCH_PACED_PERCENT', 50),
  pacedSeconds: int('BENCH_PACED_SECONDS', 10),
  bulkAccounts: int('BENCH_BULK_ACCOUNTS', 1_000),
  pollMs: int('BENCH_POLL_MS', 10),
  sitterVisits: (process.env.BENCH_SITTER_VISITS ?? '1000,100000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0),
  settleSeconds: int('BENCH_SETTLE_SECONDS', 11),
  idleSeconds: int('BENCH_IDLE_SECONDS', 5),
  amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  kafkaUrl: process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092',
  skip: new Set((process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
};
const began = performance.now();
const progress = (msg: string) => process.stderr.write(`[system ${((performance.now() - began) / 1000).toFixed(0)} s] ${msg}\n`);
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Row { measure: string; value: number; unit: string; note: string }
const rows: Row[] = [];
const failed = (measure: string, unit: string, error: unknown) => {
  progress(`${measure}: FAILED: ${reason(error)}`);
  rows.push({ measure, value: Number.NaN, unit, note: `FAILED: ${reason(error)}` });
};

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

/** A tenant provisioned through the directory, with one client whose visits the cascade sitters get. */
async function benchTenant(system: System): Promise<Tenant> {
  const { tenantId, accountId } = await provisionTenant(system.url('directory'), system.operator, 'Bench Pets');
  const { id } = await directoryPoster(system, tenantId)('/people', { kind: 'client', firstName: 'Cy', lastName: 'Client', accountId });
  return { tenantId, accountId, clientId: id! };
}

const results: Record<string, unknown> = {
  config: { ...config, skip: [...config.skip] }, cpus: cpus().length, at: new Date().toISOString(), loadAverageAtStart: loadavg(),
};
const ms = (n: number) => `${Math.round(n).toLocaleString('en')} ms`;

/** `config.revocations` people prepared, then revoked one at a time while a cascade load runs. */
async function revocationsBeside(system: System, tenant: Tenant, meter: SystemMeter, name: string, o: Pick<CascadeOptions, 'cascades' | 'ratePerSecond' | 'progress'>) {
  const prepared = await revocationSubjects(system, config.revocations);
  try {
    let revoked: Revocations | undefined;
    const load = await sustainedCascades(system, tenant, meter, {
      ...o, concurrency: config.concurrency, timeoutMs: 300_000, settleMs: 0, idleMs: 0,
      alongside: async (loadOver) => {
        revoked = await revokeOneByOne(system, prepared, { pollMs: config.pollMs, until: loadOver });
      },
    });
    if (!revoked || revoked.everywhere.length === 0) throw new Error(`no revocation completed while the ${name} ran`);
    return { revoked, load };
  } finally {
    await prepared.app.close();
  }
}

function revocationRows(transport: Transport, everywhere: number[]): void {
  const p50 = percentile(everywhere, 50);
  const p99 = percentile(everywhere, 99);
  const how = `deactivate request → the token refused by all four services (polled every ${config.pollMs} ms); ${everywhere.length} people, one at a time, on the quiet system before the cascade load`;
  rows.push({ measure: `${transport}: revocation p50`, value: p50, unit: 'ms', note: how });
  rows.push({ measure: `${transport}: revocation p99`, value: p99, unit: 'ms', note: `${p99 <= 250 ? '✓' : '✗'} goal ≤ 250 ms; max ${ms(Math.max(...everywhere))}` });
}

function revocationUnderLoadRows(transport: Transport, r: Revocations, load: CascadeResult): void {
  const how = `the same measure, one person at a time while ${load.cascades} other cascades run (${load.perSecond.toFixed(0)} cascades/s, ${config.concurrency} requests in flight); ${r.everywhere.length} people revoked one after the other while the load's requests were being sent`;
  rows.push({ measure: `${transport}: revocation p50 under load`, value: percentile(r.everywhere, 50), unit: 'ms', note: how });
  const p99 = percentile(r.everywhere, 99);
  rows.push({ measure: `${transport}: revocation p99 under load`, value: p99, unit: 'ms', note: `${p99 <= 100 ? '✓' : '✗'} goal ≤ 100 ms (issue 19); back-channel logout p99 ${ms(percentile(r.backchannel, 99))}; the load's completion p99 ${ms(load.p99Ms)}` });
}

function pacedRows(transport: Transport, rate: number, r: Revocations, load: CascadeResult): void {
  const how = `${load.cascades} deactivations started at ${rate.toFixed(0)}/s whatever the answers (open loop, ${config.pacedShare} % of the sustained rate above)`;
  rows.push({ measure: `${transport}: paced load: cascade completion p50`, value: load.p50Ms, unit: 'ms', note: how });
  rows.push({ measure: `${transport}: paced load: cascade completion p99`, value: load.p99Ms, unit: 'ms', note: `${load.p99Ms <= 1000 ? '✓' : '✗'} goal ≤ 1 s (issue 19); max ${ms(load.maxMs)}; achieved ${load.perSecond.toFixed(0)} cascades/s` });
  const p99 = percentile(r.everywhere, 99);
  rows.push({
    measure: `${transport}: paced load: revocation p99`, value: p99, unit: 'ms',
    note: `${p99 <= 100 ? '✓' : '✗'} goal ≤ 100 ms (issue 19); p50 ${ms(percentile(r.everywhere, 50))}; ${r.everywhere.length} people revoked one after the other while that load ran; the deactivate request's own answer p99 ${ms(percentile(r.answered, 99))}`,
  });
}

function bulkAccessRow(transport: Transport, b: BulkAccessResult): void {
  const ok = b.completedMs <= 1000 && b.messagesToPerson === 1;
  rows.push({
    measure: `${transport}: 1 staff × ${b.accounts.toLocaleString('en')} accounts (P4)`, value: b.completedMs, unit: 'ms',
    note: `${ok ? '✓' : '✗'} goal ≤ 1 s and one e-mail (issue 19): request → operation completed (202 after ${ms(b.answeredMs)}); the e-mail queued after ${ms(b.noticeQueuedMs)}; every membership in scheduling's and notifications' projections after ${ms(b.everywhereMs)}; ${b.messagesToPerson} e-mail(s) to the person; on the quiet system`,
  });
}

function cascadeRows(transport: Transport, c: CascadeResult, tps: number): void {
  const e = c.evidence;
  const atGoal = 0.1 * tps; // cascades/s at the goal
  rows.push({ measure: `${transport}: deactivation cascades`, value: c.perSecond, unit: 'cascades/s', note: `${(100 * c.perSecond / tps).toFixed(1)}% of pgbench tps (goal ≥ 10%, issue 7; ≥ 5%, issue 19); ${c.cascades} cascades, ${config.concurrency} requests in flight` });
  rows.push({ measure: `${transport}: cascade completion p50`, value: c.p50Ms, unit: 'ms', note: 'operation created → every expected step recorded (under that load)' });
  rows.push({ measure: `${transport}: cascade completion p99`, value: c.p99Ms, unit: 'ms', note: `max ${ms(c.maxMs)}` });
  const idle = `the idle system's ${e.idlePerSecond.commits.toFixed(1)} commits/s (relay polls) subtracted over the ${e.windowSeconds.toFixed(0)} s window`;
  rows.push({
    measure: `${transport}: database commits per cascade`, value: e.commits, unit: 'tx',
    note: `Σ xact_commit of the 4 service databases, read-only transactions included; ${idle}. At 10% of pgbench tps (${atGoal.toFixed(0)} cascades/s) the cascades alone would commit ${Math.round(atGoal * e.commits).toLocaleString('en')} tx/s, ${(10 * e.commits).toFixed(0)}% of what pgbench achieves`,
  });
  rows.push({
    measure: `${transport}: events published per cascade`, value: e.published, unit: 'events',
    note: `confirmed by the broker (the services' bus metrics); ${e.delivered.toFixed(1)} deliveries handled per cascade; at the goal ${Math.round(atGoal * e.published).toLocaleString('en')} events/s published`,
  });
  const cores = (cpuMs: number) => `${(atGoal * cpuMs / 1000).toFixed(1)} cores at the goal`;
  const idleShare = (k: keyof typeof e.idleCpuMsPerCascade) => `idle background ${e.idleCpuMsPerCascade[k].toFixed(1)} ms of it`;
  const loadWindow = `first request → every event handled (${e.loadSeconds.toFixed(0)} s)`;
  rows.push({ measure: `${transport}: CPU per cascade, Node (the four services)`, value: e.cpuMs.node, unit: 'ms', note: `process.cpuUsage of this process over ${loadWindow}, the bench's HTTP client and polling included; ${idleShare('node')}; ${cores(e.cpuMs.node)}` });
  rows.push({ measure: `${transport}: CPU per cascade, Postgres`, value: e.cpuMs.postgres, unit: 'ms', note: `every postgres process (utime+stime; exited backends through the postmaster's cutime); the 4 databases' backends ${e.cpuMs.postgresBackends.toFixed(1)} ms; ${idleShare('postgres')}; ${cores(e.cpuMs.postgres)}` });
  rows.push({ measure: `${transport}: CPU per cascade, broker`, value: e.cpuMs.broker, unit: 'ms', note: `${transport === 'rabbitmq' ? 'beam.smp' : 'the java process running Kafka'}; ${idleShare('broker')}; ${cores(e.cpuMs.broker)}` });
  rows.push({ measure: `${transport}: CPU per cascade, total`, value: e.cpuMs.total, unit: 'ms', note: `${cores(e.cpuMs.total)} (this machine has ${cpus().length}); ${(1000 / e.cpuMs.total).toFixed(0)} cascades/s per core if CPU were the only limit` });
}

function sitterRow(transport: Transport, s: SitterResult): void {
  const ok = s.unassigned === s.visits && s.stillAssigned === 0 && s.pastKept;
  const check = ok ? `✓ ${s.visits.toLocaleString('en')} visits unassigned, the past one kept (counted in scheduling's database)`
    : `✗ unassigned ${s.unassigned}, still assigned ${s.stillAssigned}, past visit kept ${s.pastKept}`;
  rows.push({
    measure: `${transport}: sitter with ${s.visits.toLocaleString('en')} upcoming visits leaves`, value: s.completedMs, unit: 'ms',
    note: `${ok ? '' : 'FAILED: '}deactivate request → every expected step recorded (202 after ${ms(s.answeredMs)}; last follow-up step ${ms(s.lastStepMs)}); one run on the quiet system; ${check}`,
  });
}

progress(`pgbench -N for ${config.pgbenchSeconds} s`);
let tps = Number.NaN;
try {
  tps = await pgbenchTps();
  rows.push({ measure: 'pgbench -N (8 clients)', value: tps, unit: 'tx/s', note: 'baseline: simple write transactions on the same Postgres' });
  results.pgbenchTps = tps;
} catch (error) {
  failed('pgbench -N (8 clients)', 'tx/s', error);
}

for (const transport of ['rabbitmq', 'kafka'] as const) {
  if (config.skip.has(transport)) continue;
  const out: Record<string, unknown> = {};
  results[transport] = out;
  const namespace = `bench-system-${randomUUID().slice(0, 8)}`;
  progress(`${transport}: raw broker loop, ${config.brokerEvents} events`);
  const raw = transport === 'rabbitmq' ? new RawAmqpPath(namespace, busConfig.prefetch) : new RawKafkaPath(namespace);
  try {
    out.rawBrokerEventsPerSecond = await rawBrokerRate(raw);
    rows.push({ measure: `${transport}: raw broker loop`, value: out.rawBrokerEventsPerSecond as number, unit: 'events/s', note: `baseline: ${raw.name}, persistent, confirmed, one group` });
  } catch (error) {
    failed(`${transport}: raw broker loop`, 'events/s', error);
  } finally {
    if (transport === 'kafka') await cleanKafka(namespace).catch(() => undefined);
  }

  let system: System;
  try {
    progress(`${transport}: starting the four services`);
    system = await startSystem({ busUrl: transport === 'rabbitmq' ? config.amqpUrl : config.kafkaUrl, database: 'postgres' });
  } catch (error) {
    failed(`${transport}: the four services`, '', error);
    out.failed = reason(error);
    continue;
  }
  const meter = new SystemMeter(system, transport, ADMIN_DATABASE_URL);
  try {
    if (!meter.brokerVisible()) progress(`${transport}: the broker's process is not visible here: its CPU reads 0`);
    progress(`${transport}: ${config.revocations} revocations on the quiet system`);
    try {
      const r = await measureRevocations(system, config.revocations, { pollMs: config.pollMs, progress: (m) => progress(`${transport}: revocations ${m}`) });
      out.revocation = r;
      revocationRows(transport, r.everywhere);
    } catch (error) {
      failed(`${transport}: revocation`, 'ms', error);
    }

    let tenant: Tenant | undefined;
    if (config.cascades > 0) {
      try {
        tenant = await benchTenant(system);
        const c = await sustainedCascades(system, tenant, meter, {
          cascades: config.cascades, concurrency: config.concurrency, timeoutMs: transport === 'kafka' ? 120_000 : 300_000,
          settleMs: config.settleSeconds * 1000, idleMs: config.idleSeconds * 1000, progress: (m) => progress(`${transport}: ${m}`),
        });
        out.cascades = { ...c, ofPgbench: c.perSecond / tps };
        cascadeRows(transport, c, tps);
      } catch (error) {
        // Reported in the table rather than hidden: a path that cannot complete its cascades has no figure.
        failed(`${transport}: deactivation cascades`, 'cascades/s', error);
        out.cascades = { failed: reason(error) };
      }
    }

    if (config.loadCascades > 0) {
      progress(`${transport}: revocations while ${config.loadCascades} cascades run`);
      try {
        tenant ??= await benchTenant(system);
        const { revoked, load } = await revocationsBeside(system, tenant, meter, 'second load', {
          cascades: config.loadCascades, progress: (m) => progress(`${transport}: second load: ${m}`),
        });
        out.revocationUnderLoad = { revoked, load: { perSecond: load.perSecond, p50Ms: load.p50Ms, p99Ms: load.p99Ms } };
        revocationUnderLoadRows(transport, revoked, load);
      } catch (error) {
        failed(`${transport}: revocation under load`, 'ms', error);
      }
    }

    const sustained = (out.cascades as { perSecond?: number } | undefined)?.perSecond;
    if (config.pacedShare > 0 && sustained) {
      const rate = (sustained * config.pacedShare) / 100;
      const cascades = Math.round(rate * config.pacedSeconds);
      progress(`${transport}: ${cascades} cascades paced at ${rate.toFixed(0)}/s (${config.pacedShare} % of the sustained rate), revocations alongside`);
      try {
        tenant ??= await benchTenant(system);
        const { revoked, load } = await revocationsBeside(system, tenant, meter, 'paced load', {
          cascades, ratePerSecond: rate, progress: (m) => progress(`${transport}: paced load: ${m}`),
        });
        out.pacedLoad = { rate, revoked, load: { perSecond: load.perSecond, p50Ms: load.p50Ms, p99Ms: load.p99Ms, maxMs: load.maxMs } };
        pacedRows(transport, rate, revoked, load);
      } catch (error) {
        failed(`${transport}: paced load`, 'ms', error);
      }
    }

    const sitters: SitterResult[] = [];
    out.sitters = sitters;
    for (const visits of config.sitterVisits) {
      progress(`${transport}: a sitter with ${visits.toLocaleString('en')} upcoming visits leaves`);
      try {
        tenant ??= await benchTenant(system);
        const s = await sitterLeaves(system, tenant, visits, 120_000);
        sitters.push(s);
        sitterRow(transport, s);
      } catch (error) {
        failed(`${transport}: sitter with ${visits.toLocaleString('en')} upcoming visits leaves`, 'ms', error);
      }
    }

    if (config.bulkAccounts > 0) {
      progress(`${transport}: one staff member into ${config.bulkAccounts.toLocaleString('en')} accounts`);
      try {
        tenant ??= await benchTenant(system);
        const b = await bulkAccess(system, tenant, config.bulkAccounts, 120_000);
        out.bulkAccess = b;
        bulkAccessRow(transport, b);
      } catch (error) {
        failed(`${transport}: 1 staff × ${config.bulkAccounts.toLocaleString('en')} accounts`, 'ms', error);
      }
    }
  } finally {
    await meter.close();
    await system.stop();
  }
}

results.loadAverageAtEnd = loadavg();
results.seconds = (performance.now() - began) / 1000;
const fmt = (n: number) => (Number.isNaN(n) ? '—' : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(1));
console.log(`System benchmark: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end, ${Math.round(results.seconds as number)} s in all\n`);
console.log('| measure | value | unit | note |\n|---|---:|---|---|');
for (const r of rows) console.log(`| ${r.measure} | ${fmt(r.value)} | ${r.unit} | ${r.note} |`);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
const file = new URL(`../results/system-${Date.now()}.json`, import.meta.url);
writeFileSync(file, `${JSON.stringify({ ...results, rows }, null, 2)}\n`);
progress(`results in ${file.pathname}`);
process.exit(0);
