// The sustained phase of bench/system: many sitters deactivated over HTTP at once, each cascade
// timed from the operation's creation to its last step, and what the whole run cost the machine.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { addUpcomingVisits } from '../../tests/e2e/faults-support.js';
import type { System } from '../../tests/e2e/support/system.js';
import { concurrently, percentile } from '../bus/measure.js';
import { perCascade, type Evidence, type SystemMeter } from './resources.js';

export interface Tenant { tenantId: string; accountId: string; clientId: string }

/** POST to the directory as the operator; a 5xx (a serialization retry given up) is tried again. */
export function directoryPoster(system: System, tenantId: string) {
  const headers = { ...system.operator(tenantId), 'content-type': 'application/json' };
  return async (path: string, body: unknown): Promise<Record<string, string>> => {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${system.url('directory')}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const json = await res.json() as Record<string, string>;
      if (res.status < 300) return json;
      if (res.status < 500 || attempt >= 5) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    }
  };
}

/**
 * Operations whose every expected service has recorded its step, with created (directory's clock)
 * and completed = the time of the last of those steps (the first step of each expected service:
 * steps a service records later for follow-up events, e.g. notifications for visits.unassigned,
 * are in `lastStep`).
 */
export async function completedOperations(directory: pg.Pool, tenantId: string, operationIds: string[]): Promise<{ id: string; created: Date; completed: Date; lastStep: Date }[]> {
  const { rows } = await directory.query<{ id: string; created: Date; completed: Date; lastStep: Date }>(
    `SELECT o.id, o.created_at AS created, max(s.first_at) AS completed, max(s.last_at) AS "lastStep"
       FROM operation o
       JOIN LATERAL (SELECT service, min(at) AS first_at, max(at) AS last_at FROM operation_step WHERE operation_id = o.id GROUP BY service) s
         ON s.service = ANY(o.expected)
      WHERE o.tenant_id = $1::uuid AND o.id = ANY($2::uuid[])
      GROUP BY o.id, o.created_at, o.expected HAVING count(*) >= cardinality(o.expected)`, [tenantId, operationIds]);
  return rows;
}

export interface CascadeResult {
  perSecond: number; p50Ms: number; p99Ms: number; maxMs: number; cascades: number;
  /** Per-cascade cost over the phase, net of the idle system. */
  evidence: Evidence;
}

export interface CascadeOptions {
  cascades: number;
  concurrency: number;
  timeoutMs: number;
  /** Idle time before the idle window and after the last completion (pg_stat flushes pending counts within 10 s of idling). */
  settleMs: number;
  /** Length of the idle window that gives the idle rates. */
  idleMs: number;
  progress: (message: string) => void;
  /**
   * Open loop: requests started at this rate whatever the answers (`concurrency` ignored), the way
   * independent users arrive; below the sustained rate, latency is the system's, not a queue's.
   */
  ratePerSecond?: number;
  /** Runs beside the deactivations, from the first request until the last is sent (`loadOver()` then true); awaited before the result. */
  alongside?: (loadOver: () => boolean) => Promise<unknown>;
}

/**
 * `cascades` sitters with two upcoming visits each in `tenant` (through the APIs, not measured),
 * then every sitter deactivated over HTTP with `concurrency` requests in flight. Latency = the
 * operation's creation → completion (both the directory database's clock); throughput = cascades ÷
 * (first creation → last completion). The meter reads the counters over an idle window first (the
 * idle rates), then from the first request to the bus going quiet (CPU) and to `settleMs` after
 * that (commits, events).
 */
export async function sustainedCascades(system: System, tenant: Tenant, meter: SystemMeter, o: CascadeOptions): Promise<CascadeResult> {
  const post = directoryPoster(system, tenant.tenantId);
  const schedulingAuth = system.tokens.bearer({ tenantId: tenant.tenantId, personId: randomUUID(), roles: ['owner'] } as never);
  const directory = new pg.Pool({ connectionString: system.envOf('directory').DATABASE_URL, max: 2 });
  directory.on('error', () => undefined);
  try {
    o.progress(`${o.cascades} sitters with two upcoming visits each (through the APIs)`);
    const sitters: string[] = [];
    await concurrently(o.cascades, 16, async () => {
      const { id } = await post('/people', { kind: 'staff', firstName: 'Bo', lastName: 'Bench', accountId: tenant.accountId, roleKey: 'staff' });
      sitters.push(id!);
      await addUpcomingVisits(system.url('scheduling'), schedulingAuth, tenant.clientId, id!, 2);
    });

    o.progress(`idle: ${o.settleMs / 1000} s to settle, then ${o.idleMs / 1000} s measured`);
    await sleep(o.settleMs);
    const idleFrom = await meter.snapshot();
    await sleep(o.idleMs);
    const idleTo = await meter.snapshot();

    o.progress(`deactivating ${sitters.length} sitters, ${o.ratePerSecond ? `${o.ratePerSecond.toFixed(0)} requests/s` : `${o.concurrency} requests in flight`}`);
    const from = await meter.snapshot();
    const operations: string[] = [];
    let loadOver = false;
    // Its failure is kept (not left unhandled while the load runs) and thrown once the load is over.
    const beside = o.alongside?.(() => loadOver).then(() => null, (error: unknown) => ({ error }));
    const deactivate = async (i: number) => void operations.push((await post(`/people/${sitters[i]}/deactivate`, {})).operationId!);
    if (o.ratePerSecond) await paced(sitters.length, o.ratePerSecond, deactivate);
    else await concurrently(sitters.length, o.concurrency, deactivate);
    loadOver = true; // every request sent: what runs alongside stops starting new work
    // Complete when every expected service reported a step (what GET /operations/{id} derives);
    // completion time = the last step's time, as the directory records it.
    const deadline = Date.now() + o.timeoutMs;
    let polls = 0;
    let ops: Awaited<ReturnType<typeof completedOperations>> = [];
    for (;;) {
      polls++;
      ops = await completedOperations(directory, tenant.tenantId, operations);
      if (ops.length === operations.length) break;
      if (Date.now() > deadline) throw new Error(`only ${ops.length} of ${operations.length} cascades completed`);
      await sleep(200);
    }
    const besideFailed = await beside;
    if (besideFailed) throw besideFailed.error;
    const quiet = await meter.quiet();
    o.progress(`completed, bus quiet; ${o.settleMs / 1000} s for the counters to settle`);
    await sleep(Math.max(0, o.settleMs - (performance.now() - quiet.at)));
    const settled = await meter.snapshot();

    const latencies = ops.map((op) => op.completed.getTime() - op.created.getTime()).sort((a, b) => a - b);
    const first = Math.min(...ops.map((op) => op.created.getTime()));
    const last = Math.max(...ops.map((op) => op.completed.getTime()));
    return {
      perSecond: ops.length / ((last - first) / 1000), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1)!, cascades: ops.length,
      evidence: perCascade({ from: idleFrom, to: idleTo }, { from, quiet, settled }, ops.length, polls),
    };
  } finally {
    await directory.end();
  }
}

/** Starts task(i) at i / rate seconds from now, not waiting for earlier ones; resolves when all have (the first error after that). */
async function paced(count: number, ratePerSecond: number, task: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / ratePerSecond - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(task(i));
  }
  const failed = (await Promise.allSettled(running)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
