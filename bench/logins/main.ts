// bench-needs: postgres
//
// Logins benchmark (L8, rule 7): password logins per second through identity's HTTP API
// (throttle check, argon2id verify, session and refresh token rows, ES256 signing) next to the
// bare argon2id verify rate with the same parameters and concurrency in the same run (goal: ≥ 90%),
// and where the CPU of a login goes (identity's event loop, the hash threads, Postgres, the client),
// since on one machine everything competes with the hash for the same cores. In the same rounds, a
// minimal login server (floor.ts: node:http, the same two statements, argon2id, ES256; over pg and
// over Prisma) shows the most any code could reach here. Failed-login latency
// for a known and an unknown username (L8: comparable); and the cost of verifying an access token
// as every service does per request, next to a bare ES256 verify. The load generator is a separate
// process (load.ts), as real clients are.
//
//   node --conditions=roster-source --import tsx bench/logins/main.ts
//   BENCH_SECONDS=10 BENCH_CONCURRENCY=4 …
import { spawn } from 'node:child_process';
import { randomUUID, verify as cryptoVerify, createPublicKey } from 'node:crypto';
import { createInterface } from 'node:readline';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { MemoryBus } from '@roster/platform/bus/memory';
import { NotBeforeList } from '@roster/platform/auth/not-before';
import { parsePublicKeys } from '@roster/platform/auth/keys';
import { staticKeys, TokenVerifier } from '@roster/platform/auth/verifier';
import { startService } from '@roster/platform/service';
import { createTestDatabase } from '../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../packages/platform/test/support/tokens.js';
import { createEvent } from '@roster/contracts';
import { identityService } from '../../services/identity/src/service.js';
import { ARGON2_OPTIONS } from '../../services/identity/src/passwords/hashing.js';
import { percentile } from '../stats.js';
import { cpuSince, readCpu, type CpuReading } from './cpu.js';
import { startMinimalLoginServer } from './floor.js';

const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = int('BENCH_SECONDS', 8);
const CONCURRENCY = int('BENCH_CONCURRENCY', Math.max(2, cpus().length));
/** Capacity is compared: each path runs at `CONCURRENCY` and at twice that (waits on the database leave the hash threads idle at 1×); its best counts. */
const LEVELS = [CONCURRENCY, 2 * CONCURRENCY];
const ROUNDS = int('BENCH_ROUNDS', 3);
const progress = (m: string) => console.error(`[logins] ${m}`);


/** Runs `task` with `concurrency` workers for `seconds`; returns ops/s and latency percentiles (ms). */
async function saturate(seconds: number, concurrency: number, task: (worker: number, i: number) => Promise<void>) {
  const latencies: number[] = [];
  const cpu = readCpu();
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t = performance.now();
      await task(worker, i);
      latencies.push(performance.now() - t);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  return { ops: latencies.length, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpu: cpuSince(cpu), clientCpuMs: 0 };
}

/** The load generator's process: `run` sends it one run and waits for its figures. */
function startLoadGenerator() {
  const child = spawn(process.execPath, ['--conditions=roster-source', '--import', 'tsx', new URL('./load.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async run(job: { url: string; users: string[]; password: string; concurrency: number; seconds: number }) {
      const cpu = readCpu();
      child.stdin.write(`${JSON.stringify(job)}\n`);
      const { value } = await lines.next();
      const out = JSON.parse(String(value)) as { error?: string; ops: number; perSecond: number; p50: number; p99: number; cpuMs: number };
      if (out.error) throw new Error(`load generator: ${out.error}`);
      return { ops: out.ops, perSecond: out.perSecond, p50: out.p50, p99: out.p99, cpu: cpuSince(cpu), clientCpuMs: out.cpuMs };
    },
    stop: () => child.kill(),
  };
}

const tokens = testTokens();
const database = await createTestDatabase('roster_bench_logins');
const bus = new MemoryBus();
const identity = await startService(identityService, {
  bus,
  env: { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: 'silent', DB_POOL_SIZE: '10', ...tokens.env },
});
const results: Record<string, unknown>[] = [];
let stopClient = () => undefined as unknown;
let stopMinimal = async () => undefined as unknown;
try {
  // People and logins: one per worker, so the per-username throttle never interferes.
  const tenantId = randomUUID();
  const password = 'benchmark passphrase 2026';
  const admin = tokens.bearer({ tenantId, roles: ['admin'] });
  const users: string[] = [];
  for (let w = 0; w < 2 * CONCURRENCY; w++) {
    const personId = randomUUID();
    await bus.publish([createEvent('directory', {
      type: 'user.created', subject: personId, tenantId, correlationId: randomUUID(), subjectVersion: 1,
      data: { personId, kind: 'staff', firstName: 'Bench', lastName: `User${w}`, email: `b${w}@example.com`, phone: null, accountId: randomUUID(), roleKey: 'manager', actor: { kind: 'system', personId: null, impersonatorId: null } },
    })]);
    const username = `bench-${w}-${personId.slice(0, 6)}`;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${identity.url}/logins`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ personId, username, password }) });
      if (res.status === 201) break;
      if (attempt > 100) throw new Error(`grant failed: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    users.push(username);
  }
  const storedHash = await hash(password, ARGON2_OPTIONS);
  const client = startLoadGenerator();
  stopClient = client.stop;
  const logins = (url: string, seconds: number, concurrency: number) => client.run({ url, users, password, concurrency, seconds });
  // The least any login code must do here, over plain pg and over identity's Prisma client.
  const minimal = {
    'minimal-pg': await startMinimalLoginServer(database.url, tokens.env.IDENTITY_JWT_SIGNING_KEYS, 'pg'),
    'minimal-prisma': await startMinimalLoginServer(database.url, tokens.env.IDENTITY_JWT_SIGNING_KEYS, 'prisma'),
  };
  stopMinimal = () => Promise.all(Object.values(minimal).map((m) => m.stop()));
  const urlOf = (what: string) => (what === 'login' ? identity.url : minimal[what as keyof typeof minimal].url);
  progress(`warm-up (${CONCURRENCY} workers)`);
  await saturate(2, CONCURRENCY, async () => void (await verify(storedHash, password)));
  for (const what of ['login', 'minimal-pg', 'minimal-prisma']) await logins(urlOf(what), 2, CONCURRENCY);

  let bestBare = { perSecond: 0, p50: NaN, p99: NaN, ops: 0, level: 0 };
  let bestLogin = { perSecond: 0, p50: NaN, p99: NaN, ops: 0, level: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which goes first: the machine's other load falls on both alike.
    const whats = ['bare', 'login', 'minimal-pg', 'minimal-prisma'];
    const order = [...whats.slice(round % whats.length), ...whats.slice(0, round % whats.length)];
    for (const level of LEVELS) {
      for (const what of order) {
        progress(`round ${round}: ${what}, ${level} concurrent, ${SECONDS} s`);
        const r = what === 'bare'
          ? await saturate(SECONDS, level, async () => void (await verify(storedHash, password)))
          : await logins(urlOf(what), SECONDS, level);
        results.push({ round, what, level, ...r });
        if (what === 'bare' && r.perSecond > bestBare.perSecond) bestBare = { ...r, level } as typeof bestBare;
        if (what === 'login' && r.perSecond > bestLogin.perSecond) bestLogin = { ...r, level } as typeof bestLogin;
      }
    }
  }

  // L8: failures cost the same whether or not the username exists (alternating, one at a time).
  progress('failed logins, known vs unknown username');
  const failures = { known: [] as number[], unknown: [] as number[] };
  for (let i = 0; i < 40; i++) {
    for (const which of (i % 2 ? ['known', 'unknown'] : ['unknown', 'known']) as ('known' | 'unknown')[]) {
      // Fresh usernames past the free allowance would be throttled: clear the counters first.
      await identity.ctx.prisma.loginThrottle.deleteMany({});
      const username = which === 'known' ? users[0] : `nobody-${i}`;
      const t = performance.now();
      const res = await fetch(`${identity.url}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: `wrong ${i}` }) });
      await res.arrayBuffer();
      failures[which].push(performance.now() - t);
    }
  }
  await identity.ctx.prisma.loginThrottle.deleteMany({});
  const median = (v: number[]) => percentile(v, 50);

  // Token verification as every service does it per request, with 10,000 revoked subjects known.
  progress('token verification');
  const notBefore = new NotBeforeList();
  for (let i = 0; i < 10_000; i++) notBefore.raise(randomUUID(), Date.now() - 1000);
  const verifier = new TokenVerifier({ issuer: 'roster', keys: staticKeys(parsePublicKeys(tokens.env.JWT_PUBLIC_KEYS)), notBefore });
  const token = tokens.mint({ tenantId, roles: ['manager'] });
  const [h, p, s] = token.split('.') as [string, string, string];
  const publicKey = createPublicKey({ key: JSON.parse(tokens.env.JWT_PUBLIC_KEYS).keys[0], format: 'jwk' });
  const N = 20_000;
  const timeLoop = async (fn: () => unknown) => {
    for (let i = 0; i < 2_000; i++) await fn();
    const t = performance.now();
    for (let i = 0; i < N; i++) await fn();
    return ((performance.now() - t) * 1000) / N;
  };
  const bareEs256 = await timeLoop(() => cryptoVerify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')));
  const fullVerify = await timeLoop(() => verifier.verify(token));

  // Paired: each login run next to the bare run of the same round and concurrency (the machine's
  // other load changes within seconds); the median of those ratios is the figure that counts.
  type Run = { round: number; what: string; level: number; perSecond: number; p50: number; p99: number; ops: number; cpu: CpuReading; clientCpuMs: number };
  const runs = results as unknown as Run[];
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const SERVERS = [
    ['login', 'identity: POST /sessions'],
    ['minimal-pg', 'minimal login server over pg'],
    ['minimal-prisma', 'minimal login server over Prisma'],
  ] as const;
  /** Per level: the bare rate and, for each server, its rate and its ratio to the bare run of the same round. */
  const perLevel = LEVELS.map((level) => {
    const bare = runs.filter((r) => r.what === 'bare' && r.level === level);
    const servers = Object.fromEntries(SERVERS.map(([what]) => {
      const mine = runs.filter((r) => r.what === what && r.level === level);
      const ratios = mine.map((l) => l.perSecond / bare.find((b) => b.round === l.round)!.perSecond);
      return [what, { rate: median(mine.map((r) => r.perSecond)), p50: median(mine.map((r) => r.p50)), ratio: median(ratios), ratios }];
    }));
    return { level, bare: median(bare.map((r) => r.perSecond)), bareP50: median(bare.map((r) => r.p50)), servers };
  });
  const best = (what: string) => Math.max(...perLevel.map((l) => l.servers[what]!.ratio));
  // Where the CPU of one operation goes (ms, medians over every run at every level). With the
  // cores saturated, logins/bare ≈ bare CPU per hash ÷ total CPU per login: the overhead beyond
  // the hash is what the ratio loses, whichever process spends it on this machine.
  const cpuPer = (what: string, part: (r: Run) => number) => median(runs.filter((r) => r.what === what).map((r) => part(r) / r.ops));
  const cpuOf = (what: string) => ({
    eventLoop: cpuPer(what, (r) => r.cpu.eventLoop), threads: cpuPer(what, (r) => r.cpu.otherThreads),
    postgres: cpuPer(what, (r) => r.cpu.postgres), client: what === 'bare' ? 0 : cpuPer(what, (r) => r.clientCpuMs),
  });
  const cpu = Object.fromEntries(['bare', ...SERVERS.map(([what]) => what)].map((what) => [what, cpuOf(what)]));
  const total = (c: ReturnType<typeof cpuOf>) => c.eventLoop + c.threads + c.postgres + c.client;
  const ms = (n: number) => n.toFixed(2);
  const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
  const ratio = best('login');
  const table = [
    `argon2id m=${ARGON2_OPTIONS.memoryCost} KiB, t=${ARGON2_OPTIONS.timeCost}, p=${ARGON2_OPTIONS.parallelism}; ${ROUNDS} rounds × ${LEVELS.join(' and ')} concurrent × ${SECONDS} s, each server's run next to a bare run of the same round; ${cpus().length} cores; load average ${loadavg()[0]!.toFixed(1)} at the end`,
    '',
    `| concurrent | bare argon2id verify/s | ${SERVERS.map(([, name]) => `${name}: logins/s, ÷ bare paired (each round)`).join(' | ')} |`,
    `|---:|---:|${SERVERS.map(() => '---|').join('')}`,
    ...perLevel.map((l) => `| ${l.level} | ${f(l.bare)} | ${SERVERS.map(([what]) => {
      const x = l.servers[what]!;
      return `${f(x.rate)}: ${pct(x.ratio)} (${x.ratios.map(pct).join(', ')})`;
    }).join(' | ')} |`),
    `| best | ${f(bestBare.perSecond)} (at ${bestBare.level}) | ${f(bestLogin.perSecond)} (at ${bestLogin.level}): ${pct(ratio)} ${ratio >= 0.9 ? '✓' : '✗'} (goal ≥ 90%) | ${pct(best('minimal-pg'))}: what any code could reach here | ${pct(best('minimal-prisma'))}: on Prisma |`,
    '',
    '| CPU per operation, ms (median of all runs) | event loop | hash threads (+ V8 helpers) | Postgres | load generator | total | bare ÷ total |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...[['bare', 'bare argon2id verify'] as const, ...SERVERS].map(([what, name]) => {
      const c = cpu[what]!;
      return `| ${name} | ${ms(c.eventLoop)} | ${ms(c.threads)} | ${ms(c.postgres)} | ${what === 'bare' ? '—' : ms(c.client)} | ${ms(total(c))} | ${pct(total(cpu.bare!) / total(c))} |`;
    }),
    '',
    '| failed login (L8) | p50 ms |',
    '|---|---:|',
    `| known username, wrong password | ${f(median(failures.known))} |`,
    `| unknown username (dummy hash) | ${f(median(failures.unknown))} |`,
    '',
    '| token check per request | µs |',
    '|---|---:|',
    `| bare ES256 signature verify (baseline) | ${bareEs256.toFixed(1)} |`,
    `| TokenVerifier.verify (decode, kid, ES256, claims, not-before of 10,000 subjects) | ${fullVerify.toFixed(1)} |`,
  ].join('\n');
  console.log(table);
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/logins-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url), JSON.stringify({
    concurrency: CONCURRENCY, seconds: SECONDS, rounds: ROUNDS, runs: results, cpuPerOperationMs: cpu, failures, bareEs256Us: bareEs256, verifyUs: fullVerify,
  }, null, 2));
} finally {
  stopClient();
  await stopMinimal();
  await identity.stop();
  await bus.close();
  await database.drop();
}
