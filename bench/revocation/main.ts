// bench-needs: postgres rabbitmq kafka
//
// Revocation benchmark (B2): how long after a deactivation request every one of the four
// services refuses the person's token, on RabbitMQ and on Kafka, next to the raw broker's own
// publish → consume latency measured in the same run (amqplib / kafkajs loops from bench/bus).
// Goal: refused everywhere p99 ≤ 250 ms.
//
//   node --conditions=roster-source --import tsx bench/revocation/main.ts
//   BENCH_REVOCATIONS=30 BENCH_SKIP=kafka …
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { ServiceName } from '@roster/contracts';
import { deactivation } from '../../packages/platform/test/support/events.js';
import { startSystem } from '../../tests/e2e/support/system.js';
import { callOn, loginAs, PROBES, SERVICES, tenantWithManager } from '../../tests/e2e/revocation-scenario.js';
import { cleanKafka, cleanRabbitMq, type BusPath } from '../bus/adapters.js';
import { RawAmqpPath } from '../bus/raw-amqp.js';
import { RawKafkaPath } from '../bus/raw-kafka.js';

const REVOCATIONS = Number(process.env['BENCH_REVOCATIONS'] ?? 30);
const RAW_SAMPLES = Number(process.env['BENCH_RAW_SAMPLES'] ?? 200);
const skip = new Set((process.env['BENCH_SKIP'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
const amqpUrl = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const kafkaUrl = process.env['TEST_KAFKA_URL'] ?? 'kafka://127.0.0.1:9092';
const progress = (m: string) => console.error(`[revocation] ${m}`);
/** Milliseconds between two probes of one service: the resolution, and the load the probes add. */
const POLL_MS = Number(process.env['BENCH_POLL_MS'] ?? 10);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

/** The broker alone: one event at a time, publish() call → consumer handler start (ms). */
async function rawLatency(path: BusPath, samples: number): Promise<number[]> {
  let waiting: { id: string; resolve: () => void } | null = null;
  await path.setup((id) => {
    if (waiting?.id === id) waiting.resolve();
  });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples + 20; i++) {
      const event = deactivation(randomUUID(), 1, 'tenant-bench');
      const arrived = new Promise<void>((resolve) => (waiting = { id: event.id, resolve }));
      const started = performance.now();
      await path.publish([event]);
      await arrived;
      if (i >= 20) latencies.push(performance.now() - started); // the first 20 warm up
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await path.teardown();
  }
  return latencies;
}

interface Measured {
  /** The deactivation request's own answer (202): the directory's part before anything reaches the bus. */
  answered: number[];
  everywhere: number[];
  byService: Record<ServiceName, number[]>;
}

/** Deactivates `count` logged-in managers, one at a time, polling every service until each answers 401. */
async function revocations(busUrl: string, count: number): Promise<Measured> {
  const system = await startSystem({ busUrl, database: 'postgres' });
  const call = callOn(system);
  const measured: Measured = { answered: [], everywhere: [], byService: { identity: [], directory: [], scheduling: [], notifications: [] } };
  try {
    const t = await tenantWithManager(system);
    for (let i = 0; i < count + 3; i++) {
      const created = await call('directory', 'POST', '/people', {
        kind: 'staff', firstName: 'Bench', lastName: `Person${i}`, email: `p${i}-${randomUUID().slice(0, 6)}@example.com`, accountId: t.rootAccountId, roleKey: 'manager',
      }, t.owner);
      if (created.status !== 201) throw new Error(`person: ${created.status} ${JSON.stringify(created.body)}`);
      const username = `rev-${i}-${randomUUID().slice(0, 6)}`;
      for (let attempt = 0; ; attempt++) {
        const granted = await call('identity', 'POST', '/logins', { personId: created.body.id, username, password: 'revoke me quickly 1' }, t.owner);
        if (granted.status === 201) break;
        if (attempt > 200) throw new Error(`grant: ${granted.status} ${JSON.stringify(granted.body)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const { accessToken } = await loginAs(system, username, 'revoke me quickly 1');
      const headers = { authorization: `Bearer ${accessToken}` };
      for (const s of SERVICES) {
        const live = await call(s, 'GET', PROBES[s], undefined, headers);
        if (live.status === 401) throw new Error(`${s} refused a live token: ${JSON.stringify(live.body)}`);
      }
      const started = performance.now();
      const refusedAt = SERVICES.map(async (s) => {
        for (;;) {
          if ((await fetch(`${system.url(s)}${PROBES[s]}`, { headers })).status === 401) return performance.now() - started;
          await new Promise((r) => setTimeout(r, POLL_MS));
          if (performance.now() - started > 10_000) throw new Error(`${s} still accepts the token after 10 s`);
        }
      });
      const res = await call('directory', 'POST', `/people/${created.body.id}/deactivate`, { reason: 'bench' }, t.owner);
      if (res.status !== 202) throw new Error(`deactivate: ${res.status} ${JSON.stringify(res.body)}`);
      const answered = performance.now() - started;
      const times = await Promise.all(refusedAt);
      if (i < 3) continue; // warm-up
      measured.answered.push(answered);
      SERVICES.forEach((s, k) => measured.byService[s].push(times[k]!));
      measured.everywhere.push(Math.max(...times));
      if ((i - 2) % 10 === 0) progress(`${i - 2}/${count}`);
    }
  } finally {
    await system.stop();
  }
  return measured;
}

const rows: string[] = [];
const json: Record<string, unknown> = {};
const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
for (const transport of ['rabbitmq', 'kafka'] as const) {
  if (skip.has(transport)) {
    rows.push(`| ${transport} | skipped (BENCH_SKIP) | | | |`);
    continue;
  }
  const namespace = `bench-rev-${randomUUID().slice(0, 8)}`;
  progress(`${transport}: raw broker latency (${RAW_SAMPLES} events, one at a time)`);
  const raw = transport === 'rabbitmq' ? new RawAmqpPath(namespace) : new RawKafkaPath(namespace);
  let rawLatencies: number[];
  try {
    rawLatencies = await rawLatency(raw, RAW_SAMPLES);
  } finally {
    await (transport === 'rabbitmq' ? cleanRabbitMq(namespace, [raw instanceof RawAmqpPath ? raw.queue : ''], [raw instanceof RawAmqpPath ? raw.exchange : '']) : cleanKafka(namespace)).catch(() => undefined);
  }
  progress(`${transport}: ${REVOCATIONS} deactivations through the four services`);
  const m = await revocations(transport === 'rabbitmq' ? amqpUrl : kafkaUrl, REVOCATIONS);
  json[transport] = { raw: rawLatencies, ...m };
  const p99 = percentile(m.everywhere, 99);
  rows.push(`| ${transport} raw ${transport === 'rabbitmq' ? 'amqplib' : 'kafkajs'} publish → consume (baseline) | ${rawLatencies.length} | ${f(percentile(rawLatencies, 50))} | ${f(percentile(rawLatencies, 99))} | — |`);
  rows.push(`| ${transport}: the deactivation request answered 202 (directory) | ${m.answered.length} | ${f(percentile(m.answered, 50))} | ${f(percentile(m.answered, 99))} | |`);
  for (const s of SERVICES) {
    rows.push(`| ${transport}: ${s} refuses the token | ${m.byService[s].length} | ${f(percentile(m.byService[s], 50))} | ${f(percentile(m.byService[s], 99))} | |`);
  }
  const afterAnswer = m.everywhere.map((e, k) => e - m.answered[k]!);
  rows.push(`| ${transport}: from the 202 to refused everywhere (outbox relay, broker, revocation feed) | ${afterAnswer.length} | ${f(percentile(afterAnswer, 50))} | ${f(percentile(afterAnswer, 99))} | |`);
  rows.push(`| **${transport}: refused everywhere** (deactivate request → last service 401) | ${m.everywhere.length} | ${f(percentile(m.everywhere, 50))} | ${f(p99)} | ${p99 <= 250 ? '✓' : '✗'} p99 ≤ 250 ms |`);
}
console.log([
  `Revocation (B2): deactivation request → token refused, polled every ${POLL_MS} ms per service; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end`,
  '',
  '| path | samples | p50 ms | p99 ms | goal |',
  '|---|---:|---:|---:|---|',
  ...rows,
].join('\n'));
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`../results/revocation-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url), JSON.stringify(json, null, 2));
