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
import { startSystem } from '../../tests/e2e/support/system.js';
import { SERVICES } from '../../tests/e2e/support/revocation.js';
import { cleanKafka, cleanRabbitMq } from '../bus/adapters.js';
import { RawAmqpPath } from '../bus/raw-amqp.js';
import { RawKafkaPath } from '../bus/raw-kafka.js';
import { percentile } from '../stats.js';
import { measureRevocations, rawLatency, type Revocations } from './measure.js';

const REVOCATIONS = Number(process.env['BENCH_REVOCATIONS'] ?? 30);
const RAW_SAMPLES = Number(process.env['BENCH_RAW_SAMPLES'] ?? 200);
const skip = new Set((process.env['BENCH_SKIP'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
const amqpUrl = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const kafkaUrl = process.env['TEST_KAFKA_URL'] ?? 'kafka://127.0.0.1:9092';
const progress = (m: string) => console.error(`[revocation] ${m}`);
/** Milliseconds between two probes of one service: the resolution, and the load the probes add. */
const POLL_MS = Number(process.env['BENCH_POLL_MS'] ?? 10);

/** Its own system per transport (the four services in this process), stopped afterwards. */
async function revocations(busUrl: string, count: number): Promise<Revocations> {
  const system = await startSystem({ busUrl, database: 'postgres' });
  try {
    return await measureRevocations(system, count, { pollMs: POLL_MS, progress });
  } finally {
    await system.stop();
  }
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
  const bc99 = percentile(m.backchannel, 99);
  rows.push(`| **${transport}: back-channel logout received by the application** (deactivate request → logout token, OpenID Provider) | ${m.backchannel.length} | ${f(percentile(m.backchannel, 50))} | ${f(bc99)} | ${bc99 <= 1000 ? '✓' : '✗'} p99 ≤ 1 s |`);
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
