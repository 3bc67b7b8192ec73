// bench-needs:
/*
 * How long `npm start` takes until all four /healthz answer 200 (issue 14: cold ≤ 10 s, warm ≤ 3 s
 * on the project's 2-core machine), next to the floor any Node server has on the same machine in
 * the same run: `node -e` serving one route, started the same way (through npm's own process
 * spawn is not part of it; both are timed from spawn to the first 200).
 *
 *   cold   a data folder that does not exist yet (what a fresh clone meets after npm ci)
 *   warm   the same data folder again
 *   source the TypeScript sources (a source newer than the last build), warm data folder
 *
 * Each figure is the median of ROUNDS runs (BENCH_START_ROUNDS, default 3). Ratios to the floor
 * travel between machines; the seconds are this machine's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAMP } from '../../scripts/lib/build-stamp.mjs';

const root = new URL('../..', import.meta.url).pathname;
const ROUNDS = Number(process.env.BENCH_START_ROUNDS ?? 3);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function untilHealthy(urls: string[], deadline: number): Promise<void> {
  for (;;) {
    const ok = await Promise.all(urls.map((u) => fetch(u).then((r) => r.ok, () => false)));
    if (ok.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`not healthy within the deadline: ${urls.join(' ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Spawns, waits for every URL to answer 200, returns the seconds it took, stops the process. */
async function timeStart(cmd: string, args: string[], env: Record<string, string>, urls: string[]): Promise<number> {
  const started = performance.now();
  const proc = spawn(cmd, args, { cwd: root, stdio: 'ignore', env: { ...process.env, ...env } });
  const exited = new Promise((r) => proc.on('exit', r));
  try {
    await untilHealthy(urls, Date.now() + 120_000);
    return (performance.now() - started) / 1000;
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

async function stack(dataDir: string): Promise<number> {
  const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
  const names = ['IDENTITY', 'DIRECTORY', 'SCHEDULING', 'NOTIFICATIONS'];
  const env = Object.fromEntries(names.map((n, i) => [`${n}_PORT`, String(ports[i])]));
  return timeStart('npm', ['start', '--silent'], { ...env, ROSTER_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, ports.map((p) => `http://127.0.0.1:${p}/healthz`));
}

async function bare(): Promise<number> {
  const port = await freePort();
  return timeStart(process.execPath, ['-e', `require('http').createServer((q, s) => s.end('ok')).listen(${port})`], {}, [`http://127.0.0.1:${port}/`]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Record<string, number[]> = { 'node -e (floor)': [], cold: [], warm: [], source: [] };
const dirs: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  results['node -e (floor)']!.push(await bare());
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-bench-start-'));
  dirs.push(dataDir);
  rmSync(dataDir, { recursive: true });
  results.cold!.push(await stack(dataDir));
  results.warm!.push(await stack(dataDir));
  // A source newer than the build: npm start runs the sources through tsx (the stamp is set back
  // an hour for this run, then restored).
  const stampTime = new Date();
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(STAMP, hourAgo, hourAgo);
  try {
    results.source!.push(await stack(dataDir));
  } finally {
    utimesSync(STAMP, stampTime, stampTime);
  }
}
for (const d of dirs) rmSync(d, { recursive: true, force: true });

const floor = median(results['node -e (floor)']!);
console.log(`\nnpm start until all four /healthz answer 200 — median of ${ROUNDS}, ${new Date().toISOString()}`);
console.log(`${'start'.padEnd(18)}${'seconds'.padStart(9)}${'× floor'.padStart(10)}   goal`);
const goals: Record<string, string> = { cold: '≤ 10 s (5 s)', warm: '≤ 3 s (2 s)', source: 'after an edit, no rebuild' };
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`${name.padEnd(18)}${m.toFixed(2).padStart(9)}${(m / floor).toFixed(1).padStart(10)}   ${goals[name] ?? ''}`);
}
