#!/usr/bin/env node
// `npm test`: every *.spec.ts under packages/, services/, tests/ and bench/, run by jest (jest.config.mjs)
// on the TypeScript sources (tsx, with the `roster-source` export condition), a fresh process per file.
//
//   npm test                     everything (needs Postgres, RabbitMQ and Kafka: see README)
//   npm test -- rabbitmq bus     only spec files whose path contains every word given
//   npm test -- scim -t archived options starting with - go to jest (here: tests named like 'archived')
//
// Suites that need a server are never skipped when it is missing: this script checks first and
// fails with what to start, so that a missing broker cannot pass for a green run.
//
// RabbitMQ and Kafka are the run's own: a node and a broker started on other ports (5673, 9192) with
// their own data for the files that need them, stopped at the end (scripts/lib/test-brokers.mjs), so
// that the suites that restart a broker never touch one that something else uses.
// Files run one at a time by default (TEST_CONCURRENCY): those restarts would disturb other files
// using the same broker at that moment.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { reachable, SERVERS } from './lib/servers.mjs';
import { startTestKafka, startTestRabbit } from './lib/test-brokers.mjs';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const firstOptionAt = argv.findIndex((a) => a.startsWith('-'));
const filters = firstOptionAt < 0 ? argv : argv.slice(0, firstOptionAt);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith('.spec.ts')) yield path;
  }
}

const files = ['packages', 'services', 'tests', 'bench']
  .flatMap((d) => [...walk(join(root, d))])
  .map((f) => relative(root, f))
  .filter((f) => filters.every((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error(`no spec file matches ${filters.join(' ')}`);
  process.exit(1);
}

const needs = {
  postgres: (f) => /\.(int|e2e)\.spec\.ts$/.test(f) && !f.includes('memory'),
  rabbitmq: (f) => f.includes('rabbitmq'),
  kafka: (f) => f.includes('kafka'),
};
const needing = (key) => files.filter(needs[key]);

// Postgres is the machine's (no test stops it). A broker is the run's own (test-brokers.mjs)
// unless TEST_AMQP_URL / TEST_KAFKA_URL name one: then that one is checked like Postgres.
let missing = false;
for (const key of ['postgres', ...(process.env.TEST_AMQP_URL ? ['rabbitmq'] : []), ...(process.env.TEST_KAFKA_URL ? ['kafka'] : [])]) {
  const server = SERVERS[key];
  const users = needing(key);
  if (users.length === 0) continue;
  if (!(await reachable(server.url))) {
    missing = true;
    console.error(`✖ ${server.name} is not reachable at ${server.url}, needed by ${users.length} spec file(s), e.g. ${users[0]}.\n  Start it with: ${server.start}`);
  }
}
if (missing) process.exit(1);

const brokers = [];
const stopBrokers = () => Promise.allSettled(brokers.map((b) => b.stop()));
const starting = [
  ...(needing('rabbitmq').length && !process.env.TEST_AMQP_URL ? [startTestRabbit()] : []),
  ...(needing('kafka').length && !process.env.TEST_KAFKA_URL ? [startTestKafka()] : []),
];
if (starting.length > 0) {
  const began = Date.now();
  console.error(`starting the test run's own broker(s) (${starting.length})…`);
  const started = await Promise.allSettled(starting);
  for (const r of started) if (r.status === 'fulfilled') brokers.push(r.value);
  const failed = started.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    for (const f of failed) console.error(`✖ ${f.reason instanceof Error ? f.reason.message : String(f.reason)}`);
    await stopBrokers();
    process.exit(1);
  }
  console.error(`${brokers.map((b) => `${b.name} at ${b.url}`).join(', ')} ready in ${((Date.now() - began) / 1000).toFixed(1)} s (stopped after the run)`);
}

// Options for jest: everything from the first argument that starts with '-' (with its values).
const jestOptions = firstOptionAt < 0 ? [] : argv.slice(firstOptionAt);
const args = [
  join(root, 'node_modules/jest/bin/jest.js'),
  '--config', join(root, 'jest.config.mjs'),
  `--maxWorkers=${process.env.TEST_CONCURRENCY ?? 1}`,
  ...(process.env.CI ? ['--ci'] : []),
  ...jestOptions,
  '--runTestsByPath', ...files,
];
const env = { ...process.env, NODE_ENV: 'test', ...Object.assign({}, ...brokers.map((b) => b.env)) };
const jest = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env });
// Ctrl-C reaches jest through the terminal; the brokers are stopped once it has ended.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => jest.kill(signal));
const [code, signal] = await new Promise((resolve) => jest.on('exit', (c, sig) => resolve([c, sig])));
await stopBrokers();
process.exit(code ?? (signal ? 1 : 0));
