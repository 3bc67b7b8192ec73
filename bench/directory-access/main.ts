// bench-needs: postgres
//
// P4 at scale: one staff member into 1,000 accounts with one request (PUT /people/{id}/access),
// measuring the request (→ 202) and the time until its operation is completed (every
// access.granted published through the outbox, handled, and its cascade step recorded). Identity
// is played by a stand-in on the same memory bus that answers each access.granted with its
// cascade.step.completed at once, so the figure is the directory's own path. Baselines in the same
// run: one membership in one request, and the same 1,000 memberships as 1,000 one-account requests.
// Settings: BENCH_ACCOUNTS (1000), BENCH_ROUNDS (5).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { migratePostgres } from '@roster/platform/db/database';
import { startService } from '@roster/platform/service';
import { createTestDatabase } from '../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../packages/platform/test/support/tokens.js';
import { directoryService } from '../../services/directory/src/service.js';
import { createPerson } from '../../services/directory/src/people/commands.js';
import { provisionTenant } from '../../services/directory/src/tenants/provision.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const progress = (m: string) => process.stderr.write(`  ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Run { requestMs: number; deliveredMs: number; completedMs: number }
interface Row { path: string; memberships: number; runs: Run[] }

const database = await createTestDatabase('roster_bench_access');
const bus = new MemoryBus();
let stop: (() => Promise<void>) | undefined;
try {
  await migratePostgres(database.url, directoryService.migrationFolders);
  const tokens = testTokens();
  const service = await startService(directoryService, {
    bus, env: { ...tokens.env, PORT: '0', DATABASE_URL: database.url, ROSTER_OPERATOR_KEY: 'bench-operator-key-0123', LOG_LEVEL: 'silent' },
  });
  stop = () => service.stop();
  // Identity's part, as fast as it can be: one step per access event, straight back on the bus.
  const delivered = new Map<string, { n: number; last: number }>();
  await bus.subscribe({
    group: 'identity', types: ['access.granted', 'role.changed'],
    handler: async (e) => {
      const d = delivered.get(e.correlationid) ?? { n: 0, last: 0 };
      delivered.set(e.correlationid, { n: d.n + 1, last: performance.now() });
      await bus.publish([createEvent('identity', {
        type: 'cascade.step.completed', subject: e.correlationid, tenantId: e.tenantid, correlationId: e.correlationid,
        data: { operationId: e.correlationid, service: 'identity', step: 'refresh_access', outcome: 'applied', counts: { memberships: 1 }, durationMs: 0, causeEventId: e.id, causeType: e.type, dryRun: false, detail: null },
      })]);
    },
  });
  const db = service.ctx.prisma;
  const tenant = await provisionTenant(db, { name: 'Agency', owner: { firstName: 'Olive', lastName: 'Owner', email: 'owner@agency.example' } });
  // The agency's client accounts, bulk-inserted (not what is measured).
  const accountIds = Array.from({ length: ACCOUNTS }, () => randomUUID());
  await db.$executeRawUnsafe(
    `INSERT INTO account (id, tenant_id, parent_id, kind, name, ancestors)
     SELECT a, $1::uuid, $2::uuid, 'client_account', 'Client ' || n, ARRAY[$2::uuid, a] FROM unnest($3::uuid[]) WITH ORDINALITY AS t(a, n)`,
    tenant.tenantId, tenant.rootAccountId, accountIds,
  );
  const auth = { ...tokens.bearer({ tenantId: tenant.tenantId, personId: tenant.ownerId, roles: ['owner'] }), 'content-type': 'application/json' };
  const newStaff = async () => (await createPerson(db, tenant.tenantId, { kind: 'staff', firstName: 'Sam', lastName: `Staff ${randomUUID().slice(0, 6)}`, accountId: tenant.rootAccountId }, { kind: 'operator', personId: null, impersonatorId: null })).id;
  const grant = async (personId: string, accounts: string[]) => {
    const res = await fetch(`${service.url}/people/${personId}/access`, { method: 'PUT', headers: auth, body: JSON.stringify({ roleKey: 'manager', grants: accounts.map((accountId) => ({ accountId })) }) });
    const body = (await res.json()) as { operationId: string };
    if (res.status !== 202) throw new Error(`${res.status} ${JSON.stringify(body)}`);
    return body.operationId;
  };
  const completed = async (operationId: string) => {
    for (;;) {
      const res = await fetch(`${service.url}/operations/${operationId}`, { headers: auth });
      const op = (await res.json()) as { status: string };
      if (op.status === 'completed') return;
      if (op.status === 'failed') throw new Error(`operation ${operationId} failed`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const measure = async (path: string, memberships: number, once: () => Promise<Run>): Promise<Row> => {
    await once(); // warm-up
    const runs: Run[] = [];
    for (let i = 0; i < ROUNDS; i++) runs.push(await once());
    progress(`${path}: request ${median(runs.map((r) => r.requestMs)).toFixed(0)} ms, completed ${median(runs.map((r) => r.completedMs)).toFixed(0)} ms (medians)`);
    return { path, memberships, runs };
  };

  const rows: Row[] = [];
  rows.push(await measure('baseline: 1 staff × 1 account, one request', 1, async () => {
    const staff = await newStaff();
    const t0 = performance.now();
    const op = await grant(staff, [accountIds[0]!]);
    const t1 = performance.now();
    await completed(op);
    return { requestMs: t1 - t0, deliveredMs: delivered.get(op)!.last - t0, completedMs: performance.now() - t0 };
  }));
  rows.push(await measure(`1 staff × ${ACCOUNTS} accounts, one request`, ACCOUNTS, async () => {
    const staff = await newStaff();
    const t0 = performance.now();
    const op = await grant(staff, accountIds);
    const t1 = performance.now();
    await completed(op);
    return { requestMs: t1 - t0, deliveredMs: delivered.get(op)!.last - t0, completedMs: performance.now() - t0 };
  }));
  const naive = Math.min(ACCOUNTS, Number(process.env.BENCH_NAIVE ?? ACCOUNTS));
  const naiveRow = await (async () => {
    const staff = await newStaff();
    const t0 = performance.now();
    const ops: string[] = [];
    for (const a of accountIds.slice(0, naive)) ops.push(await grant(staff, [a]));
    const t1 = performance.now();
    for (const op of ops) await completed(op);
    const run = { requestMs: t1 - t0, deliveredMs: Math.max(...ops.map((o) => delivered.get(o)!.last)) - t0, completedMs: performance.now() - t0 };
    progress(`baseline: ${naive} one-account requests: requests ${run.requestMs.toFixed(0)} ms, completed ${run.completedMs.toFixed(0)} ms`);
    return { path: `baseline: 1 staff × ${naive} accounts, ${naive} one-account requests (once)`, memberships: naive, runs: [run] };
  })();
  rows.push(naiveRow);

  const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : 1);
  const bulk = rows[1]!;
  const lines = [
    `### directory-access: memberships in bulk (${ROUNDS} rounds, medians; max in brackets)`,
    '',
    '| path | memberships | request → 202 ms | → last event at identity ms | → operation completed ms | memberships/s to completion | vs bulk |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => {
      const req = r.runs.map((x) => x.requestMs);
      const done = r.runs.map((x) => x.completedMs);
      const seen = r.runs.map((x) => x.deliveredMs);
      const rate = r.memberships / (median(done) / 1000);
      const vs = r === bulk ? '—' : `${(median(done) / median(bulk.runs.map((x) => x.completedMs))).toFixed(2)}× the time`;
      return `| ${r.path} | ${r.memberships} | ${fmt(median(req))} (${fmt(Math.max(...req))}) | ${fmt(median(seen))} | ${fmt(median(done))} (${fmt(Math.max(...done))}) | ${Math.round(rate).toLocaleString('en-US')} | ${vs} |`;
    }),
    '',
    'Directory on Postgres with the memory bus; identity played by a stand-in that answers each event with its step at once. "Completed" = the operation status says every access.granted has its identity step.',
  ];
  console.log(lines.join('\n'));
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/directory-access-${Date.now()}.json`, import.meta.url), JSON.stringify({ accounts: ACCOUNTS, rounds: ROUNDS, rows }, null, 2));
} finally {
  await stop?.().catch((error) => progress(`directory stop failed: ${String(error)}`));
  await bus.close().catch(() => undefined);
  // Dropping the database ends connections a pool may still hold idle; that is the end of the run, not a failure.
  process.on('uncaughtException', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  await database.drop();
}
