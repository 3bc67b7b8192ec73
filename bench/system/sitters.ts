// The sitter rows of bench/system: one sitter with N upcoming visits leaves, through the whole
// system (directory → bus → identity, scheduling, notifications → directory), on a quiet system.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { SERVICES } from '@roster/contracts';
import type { System } from '../../tests/e2e/support/system.js';
import { insertVisits } from '../cascade-scheduling/seed.js';
import { completedOperations, directoryPoster } from './cascades.js';

export interface SitterResult {
  visits: number;
  /** Deactivation request sent → its 202. */
  answeredMs: number;
  /** Deactivation request sent → the last expected service's step recorded. */
  completedMs: number;
  /** … → the last step of any kind recorded under the operation (follow-ups of visits.unassigned included). */
  lastStepMs: number;
  /** Upcoming visits of the sitter's client left without a sitter afterwards (must be `visits`). */
  unassigned: number;
  /** Upcoming visits still assigned to the sitter afterwards (must be 0). */
  stillAssigned: number;
  /** The past visit kept its sitter (it must). */
  pastKept: boolean;
}

const PEOPLE_SERVICES = SERVICES.filter((s) => s !== 'directory');

/**
 * A sitter and a client of their own, created through the directory's API (so identity,
 * scheduling and notifications learn of them from events, as they would of anyone); once every
 * projection knows both, `visits` upcoming visits of that client with that sitter and one past visit
 * are written straight into scheduling's database (SQL: 100,000 through the API would take an
 * hour). Then the sitter is deactivated over HTTP and the operation followed to completion.
 */
export async function sitterLeaves(system: System, tenant: { tenantId: string; accountId: string }, visits: number, timeoutMs: number): Promise<SitterResult> {
  const post = directoryPoster(system, tenant.tenantId);
  const pools = Object.fromEntries(SERVICES.map((s) => {
    const pool = new pg.Pool({ connectionString: system.envOf(s).DATABASE_URL, max: 2 });
    pool.on('error', () => undefined);
    return [s, pool];
  })) as Record<(typeof SERVICES)[number], pg.Pool>;
  try {
    const { id: sitterId } = await post('/people', { kind: 'staff', firstName: 'Sam', lastName: `Sitter${visits}`, accountId: tenant.accountId, roleKey: 'staff' });
    const { id: clientId } = await post('/people', { kind: 'client', firstName: 'Cleo', lastName: `Client${visits}`, accountId: tenant.accountId });
    for (const service of PEOPLE_SERVICES) {
      for (const started = Date.now(); ; await sleep(50)) {
        const { rows } = await pools[service].query<{ n: number }>(
          `SELECT count(*)::int AS n FROM person_projection WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'active'`, [tenant.tenantId, [sitterId, clientId]]);
        if (rows[0]!.n === 2) break;
        if (Date.now() - started > 30_000) throw new Error(`${service} has not learnt of the sitter and the client after 30 s`);
      }
    }
    await insertVisits(pools.scheduling, { tenantId: tenant.tenantId, sitterId: sitterId!, clientIds: [clientId!], upcoming: visits });
    // As a table that has lived with these rows would be: statistics and visibility map up to date.
    await pools.scheduling.query('VACUUM (ANALYZE) visit, visit_assignment');

    const sent = Date.now();
    const started = performance.now();
    const { operationId } = await post(`/people/${sitterId}/deactivate`, {});
    const answeredMs = performance.now() - started;
    let op: Awaited<ReturnType<typeof completedOperations>>[number] | undefined;
    for (const deadline = Date.now() + timeoutMs; !op; await sleep(25)) {
      [op] = await completedOperations(pools.directory, tenant.tenantId, [operationId!]);
      if (!op && Date.now() > deadline) throw new Error(`the operation of a sitter with ${visits} visits did not complete in ${timeoutMs / 1000} s`);
    }

    const { rows: [check] } = await pools.scheduling.query<{ unassigned: number; still: number; past: number }>(
      `SELECT (SELECT count(*) FROM visit v WHERE v.tenant_id = $1 AND v.client_id = $3 AND v.starts_at > now()
                 AND NOT EXISTS (SELECT 1 FROM visit_assignment a WHERE a.visit_id = v.id))::int AS unassigned,
              (SELECT count(*) FROM visit_assignment WHERE tenant_id = $1 AND sitter_id = $2 AND starts_at > now())::int AS still,
              (SELECT count(*) FROM visit_assignment WHERE tenant_id = $1 AND sitter_id = $2 AND starts_at <= now())::int AS past`,
      [tenant.tenantId, sitterId, clientId]);
    return {
      visits, answeredMs, completedMs: op.completed.getTime() - sent, lastStepMs: op.lastStep.getTime() - sent,
      unassigned: check!.unassigned, stillAssigned: check!.still, pastKept: check!.past === 1,
    };
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.end()));
  }
}
