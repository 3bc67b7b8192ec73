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
// Files run one at a time by default (TEST_CONCURRENCY): the bus contract suites stop and restart
// the brokers, which would disturb other files using the same broker at that moment.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { reachable, SERVERS } from './lib/servers.mjs';

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

const servers = [
  { ...SERVERS.postgres, needed: (f) => /\.(int|e2e)\.spec\.ts$/.test(f) && !f.includes('memory') },
  { ...SERVERS.rabbitmq, needed: (f) => f.includes('rabbitmq') },
  { ...SERVERS.kafka, needed: (f) => f.includes('kafka') },
];

let missing = false;
for (const server of servers) {
  const needing = files.filter(server.needed);
  if (needing.length === 0) continue;
  if (!(await reachable(server.url))) {
    missing = true;
    console.error(`✖ ${server.name} is not reachable at ${server.url}, needed by ${needing.length} spec file(s), e.g. ${needing[0]}.\n  Start it with: ${server.start}`);
  }
}
if (missing) process.exit(1);

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
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
process.exit(result.status ?? 1);
