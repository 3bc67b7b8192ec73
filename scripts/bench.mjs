#!/usr/bin/env node
// `npm run bench`: every bench/<name>/main.ts, one after the other, on the TypeScript sources
// (tsx, with the `roster-source` export condition), each in its own Node process.
//
//   npm run bench                every benchmark
//   npm run bench -- bus         only bench/bus (names as given, exact)
//
// A benchmark declares the servers it needs in a comment line of its main.ts:
//   // bench-needs: postgres rabbitmq kafka
// They are checked before anything runs; a missing one stops the run with how to start it, so
// that a missing broker never passes for a measurement. `BENCH_SKIP=kafka` (comma-separated)
// tells the benchmarks to skip those paths and skips those servers' checks too.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { reachable, SERVERS } from './lib/servers.mjs';

const root = new URL('..', import.meta.url).pathname;
const benchDir = join(root, 'bench');
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));

const available = readdirSync(benchDir)
  .filter((name) => !name.startsWith('.') && name !== 'node_modules' && statSync(join(benchDir, name)).isDirectory())
  .filter((name) => existsSync(join(benchDir, name, 'main.ts')))
  .sort();
const unknown = asked.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`no benchmark named ${unknown.join(', ')} (there is: ${available.join(', ') || 'none'})`);
  process.exit(1);
}
const selected = asked.length > 0 ? asked : available;
if (selected.length === 0) {
  console.error('no bench/<name>/main.ts found');
  process.exit(1);
}

const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
const servers = SERVERS;

const needsOf = (name) => {
  const source = readFileSync(join(benchDir, name, 'main.ts'), 'utf8');
  const line = /^\/\/\s*bench-needs:(.*)$/m.exec(source);
  return (line?.[1] ?? '').split(/[\s,]+/).filter(Boolean);
};

let missing = false;
for (const key of [...new Set(selected.flatMap(needsOf))]) {
  const server = servers[key];
  if (!server) {
    console.error(`✖ a benchmark needs "${key}", which scripts/bench.mjs does not know (known: ${Object.keys(servers).join(', ')})`);
    missing = true;
    continue;
  }
  if (skip.has(key)) continue;
  if (!(await reachable(server.url))) {
    missing = true;
    const users = selected.filter((name) => needsOf(name).includes(key)).map((n) => `bench/${n}`).join(', ');
    console.error(`✖ ${server.name} is not reachable at ${server.url}, needed by ${users}.\n  Start it with: ${server.start}` +
      `\n  (or leave its paths out: BENCH_SKIP=${key} npm run bench -- ${selected.join(' ')})`);
  }
}
if (missing) process.exit(1);

let failed = 0;
for (const name of selected) {
  const main = relative(root, join(benchDir, name, 'main.ts'));
  console.error(`\n▶ ${main}`);
  const result = spawnSync(process.execPath, ['--conditions=roster-source', '--import', 'tsx', main], {
    cwd: root, stdio: 'inherit', env: process.env,
  });
  if (result.status !== 0) {
    failed++;
    console.error(`✖ ${main} failed (${result.signal ?? `exit ${result.status}`})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
