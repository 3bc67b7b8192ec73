// bench-needs: postgres
//
// P7 search at scale: GET /people (the directory's real HTTP path: token verification, the
// caller's reach, the trigram-indexed query, JSON) with 1,000,000 people in one tenant, bulk-
// loaded with generate_series (not the API). Baselines measured in the same run: a primary-key
// lookup (GET /people/{id}) and the same searches with the trigram index dropped.
// Target: p99 ≤ 20 ms for searches. Settings: BENCH_PEOPLE (1000000), BENCH_QUERIES (300 per kind).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { MemoryBus } from '@roster/platform/bus/memory';
import { migratePostgres } from '@roster/platform/db/database';
import { startService } from '@roster/platform/service';
import { createTestDatabase } from '../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../packages/platform/test/support/tokens.js';
import { directoryService } from '../../services/directory/src/service.js';
import { provisionTenant } from '../../services/directory/src/tenants/provision.js';
import { loadCaller } from '../../services/directory/src/access/caller.js';
import { searchPeople } from '../../services/directory/src/people/search.js';
import { readPerson } from '../../services/directory/src/people/view.js';
import { loadPeople, LAST_NAME_PARTS } from './load.js';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const TARGET_P99_MS = 20;
const progress = (m: string) => process.stderr.write(`  ${m}\n`);

interface Row { path: string; queries: number; p50: number; p99: number; max: number; rows: number; note: string; queryP50: number; queryP99: number }
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

const database = await createTestDatabase('roster_bench_search');
let stopService: (() => Promise<void>) | undefined;
try {
  await migratePostgres(database.url, directoryService.migrationFolders);
  const tokens = testTokens();
  const service = await startService(directoryService, {
    bus: new MemoryBus(),
    env: { ...tokens.env, PORT: '0', DATABASE_URL: database.url, ROSTER_OPERATOR_KEY: 'bench-operator-key-0123', LOG_LEVEL: 'silent' },
  });
  stopService = () => service.stop();
  const tenant = await provisionTenant(service.ctx.prisma, { name: 'Bench', owner: { firstName: 'Olive', lastName: 'Owner', email: 'owner@bench.example' } });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const loadStarted = performance.now();
  await loadPeople(pool, tenant.tenantId, tenant.rootAccountId, PEOPLE, progress);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  progress(`${PEOPLE.toLocaleString('en-US')} people loaded and indexed in ${loadSeconds.toFixed(0)} s`);

  const auth = tokens.bearer({ tenantId: tenant.tenantId, personId: tenant.ownerId, roles: ['owner'] });
  const get = async (path: string) => {
    const started = performance.now();
    const res = await fetch(`${service.url}${path}`, { headers: auth });
    const body = (await res.json()) as { items?: unknown[]; nextCursor?: string | null };
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return { ms, body };
  };
  // The same work in process, without HTTP: what the directory's queries cost apart from the request path.
  const caller = await loadCaller(service.ctx.prisma, await service.ctx.auth.verifier.verify(auth.authorization.slice('Bearer '.length)));
  const direct = async (path: string) => {
    const url = new URL(path, 'http://x');
    const started = performance.now();
    const byId = /^\/people\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (byId) await readPerson(service.ctx.prisma, tenant.tenantId, byId[1]!);
    else {
      const q = Object.fromEntries(url.searchParams);
      await searchPeople(service.ctx.prisma, caller, { ...q, limit: Number(q.limit ?? 25) } as never);
    }
    return performance.now() - started;
  };
  const ids = (await pool.query<{ id: string }>('SELECT id::text FROM person TABLESAMPLE SYSTEM (1) LIMIT $1', [QUERIES])).rows.map((r) => r.id);

  // What people type: a last name or a piece of one, an e-mail, phone digits, a short prefix; a picker; a second page.
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const lastName = () => `${LAST_NAME_PARTS.prefixes[rnd(LAST_NAME_PARTS.prefixes.length)]}${LAST_NAME_PARTS.suffixes[rnd(LAST_NAME_PARTS.suffixes.length)]}`;
  const kinds: [string, () => Promise<string>][] = [
    ['q = a last name (active)', async () => `/people?q=${lastName()}`],
    ['q = -a last name (inactive)', async () => `/people?q=-${lastName()}`],
    ['q = a last-name fragment (5 letters)', async () => `/people?q=${lastName().slice(1, 6)}`],
    ['q = e-mail local part', async () => `/people?q=p${1 + rnd(PEOPLE)}@`],
    ['q = phone digits (7)', async () => `/people?q=${String(1 + rnd(PEOPLE)).padStart(7, '0')}`],
    ['q = 2-letter prefix', async () => `/people?q=${LAST_NAME_PARTS.prefixes[rnd(LAST_NAME_PARTS.prefixes.length)]!.slice(0, 2)}`],
    ['picker roleKey=staff, page 1', async () => '/people?roleKey=staff'],
  ];
  // Page 2 needs a cursor from page 1 of the same query: build those before the clock.
  const secondPages: string[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const q = lastName();
    const first = await get(`/people?q=${q}&limit=10`);
    if (first.body.nextCursor) secondPages.push(`/people?q=${q}&limit=10&cursor=${first.body.nextCursor}`);
  }
  kinds.push(['q = last name, page 2 (cursor)', async () => secondPages[rnd(secondPages.length)]!]);
  kinds.push(['plain list (active and inactive), page 1', async () => '/people']);

  const measure = async (name: string, path: () => Promise<string>, count: number, note: string): Promise<Row> => {
    for (let i = 0; i < Math.min(20, count); i++) await get(await path()); // warm-up
    const times: number[] = [];
    const queryTimes: number[] = [];
    let rows = 0;
    for (let i = 0; i < count; i++) {
      const p = await path();
      const r = await get(p);
      times.push(r.ms);
      queryTimes.push(await direct(p)); // interleaved: both see the same machine
      rows += r.body.items?.length ?? 1;
    }
    times.sort((a, b) => a - b);
    queryTimes.sort((a, b) => a - b);
    const row = {
      path: name, queries: count, p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1)!, rows: rows / count, note,
      queryP50: percentile(queryTimes, 50), queryP99: percentile(queryTimes, 99),
    };
    progress(`${name}: p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms`);
    return row;
  };

  const rows: Row[] = [];
  let i = 0;
  rows.push(await measure('baseline: GET /people/{id} (primary key)', async () => `/people/${ids[i++ % ids.length]}`, QUERIES, 'same HTTP path, one row by id'));
  for (const [name, path] of kinds) rows.push(await measure(name, path, QUERIES, 'trigram index'));
  progress('dropping the trigram index for the second baseline');
  await pool.query('DROP INDEX person_search_text_trgm_idx');
  const slow = Math.max(5, Math.round(QUERIES / 30));
  rows.push(await measure('baseline: q = a last name, no trigram index', kinds[0]![1], slow, 'sequential scan of the tenant'));
  rows.push(await measure('baseline: q = e-mail local part, no trigram index', kinds[3]![1], slow, 'sequential scan of the tenant'));
  await pool.end();

  const pk = rows[0]!;
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  const lines = [
    `### directory-search: ${PEOPLE.toLocaleString('en-US')} people in one tenant (loaded in ${loadSeconds.toFixed(0)} s)`,
    '',
    '| query (GET /people …, as the owner, limit 25) | queries | p50 ms | p99 ms | max ms | in-process query p50 / p99 ms | rows/page | p99 vs PK lookup | target p99 ≤ 20 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.path} | ${r.queries} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.queryP50)} / ${fmt(r.queryP99)} | ${r.rows.toFixed(1)} | ${(r.p99 / pk.p99).toFixed(1)}× | ${r.path.startsWith('baseline') ? '—' : r.p99 <= TARGET_P99_MS ? '✓' : '✗'} |`),
    '',
    'One request at a time over HTTP on the loopback (token verified, reach computed, JSON), Postgres on the same 2-core machine.',
    '"In-process query": the same lookup through the directory\'s own functions (readPerson / searchPeople), no HTTP, interleaved with the requests.',
    `Machine load average when the run ended: ${loadavg().map((n) => n.toFixed(1)).join(', ')} (2 cores).`,
  ];
  console.log(lines.join('\n'));
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/directory-search-${Date.now()}.json`, import.meta.url), JSON.stringify({ people: PEOPLE, loadSeconds, rows }, null, 2));
  const missed = rows.filter((r) => !r.path.startsWith('baseline') && r.p99 > TARGET_P99_MS);
  if (missed.length) process.exitCode = 1;
} finally {
  await stopService?.().catch(() => undefined);
  // Dropping the database ends connections a pool may still hold idle; that is the end of the run, not a failure.
  process.on('uncaughtException', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  await database.drop();
}
