// Per-event CPU cost of the steps every adapter runs, to explain where an adapter's time goes:
//   node --conditions=roster-source --import tsx bench/bus/profile.ts
// Not run by `npm run bench` (no broker, a few seconds of CPU).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseEvent } from '@roster/contracts';
import { decode, encode, stringHeaders } from '@roster/platform/bus/codec';
import { deliver } from '@roster/platform/bus/dispatch';
import { headerStrings } from '@roster/platform/bus/kafka-consumer';
import { deactivation } from '../../packages/platform/test/support/events.js';

const N = Number(process.env['BENCH_PROFILE_EVENTS'] ?? 50_000);
const events = Array.from({ length: N }, () => deactivation(randomUUID(), 1, 'tenant-bench'));
const kafkaMessages = events.map((e) => encode(e, 'kafka'));
const amqpMessages = events.map((e) => encode(e, 'amqp'));
const decoded = kafkaMessages.map((m) => decode(m, 'kafka'));
// What amqplib and kafkajs hand the adapters: AMQP header values as strings, Kafka's as Buffers.
const amqpHeaders = amqpMessages.map((m) => ({ ...m.headers }));
const kafkaHeaders = kafkaMessages.map((m) => Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])));

async function time(label: string, fn: (i: number) => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(N, 5_000); i++) await fn(i); // warm-up
  const started = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  const us = ((performance.now() - started) * 1000) / N;
  console.log(`${label.padEnd(58)} ${us.toFixed(2).padStart(7)} µs/event  (${Math.round(1e6 / us).toLocaleString('en-US')}/s on one core)`);
  return us;
}

const noop = async () => undefined;
console.log(`${N.toLocaleString('en-US')} user.deactivated events, node ${process.version}\n`);
await time('raw: JSON.stringify(data) + JSON.parse(body)', (i) => JSON.parse(JSON.stringify(events[i]!.data)));
await time('encode (codec, kafka headers)', (i) => encode(events[i]!, 'kafka'));
await time('decode (codec, kafka headers)', (i) => decode(kafkaMessages[i]!, 'kafka'));
await time('decode (codec, amqp headers)', (i) => decode(amqpMessages[i]!, 'amqp'));
await time('rabbitmq: stringHeaders(delivery headers) + body toString', (i) => [stringHeaders(amqpHeaders[i]!), Buffer.from(amqpMessages[i]!.body).toString('utf8')]);
await time('kafka: headerStrings(record headers as Buffers)', (i) => headerStrings(kafkaHeaders[i]!));
await time('kafka: keepAlive timer (setInterval + clearInterval)', () => clearInterval(setInterval(() => undefined, 500)));
await time('parseEvent (zod: envelope + payload)', (i) => parseEvent(decoded[i]!));
await time('deliver() with a no-op handler (decode+parse+span+ALS)', (i) =>
  deliver(kafkaMessages[i]!, 'kafka', noop, { transport: 'kafka', attempt: 1, group: 'bench' }, 5));
await time('createEvent (zod payload parse, producer side)', (i) => deactivation(events[i]!.subject, 1, 'tenant-bench'));
