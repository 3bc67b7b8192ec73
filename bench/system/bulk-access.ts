// The bulk-access row of bench/system (P4, issue 19): one staff member into N accounts with one
// request, through the real four services — the directory's request, identity's step for every
// membership, scheduling's and notifications' projections, and the one e-mail the person gets.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { System } from '../../tests/e2e/support/system.js';
import { concurrently } from '../bus/measure.js';
import { directoryPoster } from './cascades.js';

export interface BulkAccessResult {
  accounts: number;
  /** PUT /people/{id}/access sent → its 202. */
  answeredMs: number;
  /** … → GET /operations/{id} says completed (identity's step for every membership recorded). */
  completedMs: number;
  /** … → notifications has queued the person's e-mail(s) about it. */
  noticeQueuedMs: number;
  /** … → all of that, and every membership in scheduling's and notifications' projections. */
  everywhereMs: number;
  /** Messages notifications queued for the person about the grant: 1 is the goal. */
  messagesToPerson: number;
}

/**
 * `accounts` client accounts and a staff member with an e-mail address, created through the
 * directory's API (not measured; every service learns of them from events); then one request
 * gives the staff member the manager role in all of them, followed to completion.
 */
export async function bulkAccess(system: System, tenant: { tenantId: string; accountId: string }, accounts: number, timeoutMs: number): Promise<BulkAccessResult> {
  const post = directoryPoster(system, tenant.tenantId);
  const headers = { ...system.operator(tenant.tenantId), 'content-type': 'application/json' };
  const notifications = new pg.Pool({ connectionString: system.envOf('notifications').DATABASE_URL, max: 2 });
  const scheduling = new pg.Pool({ connectionString: system.envOf('scheduling').DATABASE_URL, max: 1 });
  for (const p of [notifications, scheduling]) p.on('error', () => undefined);
  try {
    const accountIds: string[] = [];
    await concurrently(accounts, 16, async (i) => {
      accountIds.push((await post('/accounts', { name: `Client ${i}`, kind: 'client_account', parentId: tenant.accountId })).id!);
    });
    const { id: personId } = await post('/people', { kind: 'staff', firstName: 'Cora', lastName: 'Consultant', email: `cora-${Date.now()}@bench.example`, accountId: tenant.accountId, roleKey: 'staff' });
    // Wait until notifications knows every account and the person: the e-mail names them.
    for (const started = Date.now(); ; await sleep(100)) {
      const { rows: [r] } = await notifications.query<{ accounts: number; person: number }>(
        `SELECT (SELECT count(*) FROM account_projection WHERE id = ANY($1::uuid[]))::int AS accounts,
                (SELECT count(*) FROM person_projection WHERE id = $2::uuid)::int AS person`, [accountIds, personId]);
      if (r!.accounts === accounts && r!.person === 1) break;
      if (Date.now() - started > 60_000) throw new Error(`notifications knows ${r!.accounts} of ${accounts} accounts after 60 s`);
    }

    const started = performance.now();
    const res = await fetch(`${system.url('directory')}/people/${personId}/access`, {
      method: 'PUT', headers, body: JSON.stringify({ roleKey: 'manager', grants: accountIds.map((accountId) => ({ accountId })) }),
    });
    const answeredMs = performance.now() - started;
    const body = await res.json() as { operationId?: string };
    if (res.status !== 202) throw new Error(`PUT access: ${res.status} ${JSON.stringify(body)}`);
    // Each figure when first seen true, polled every 10 ms.
    const seen: Record<'completed' | 'notice' | 'notifications' | 'scheduling', number> = { completed: NaN, notice: NaN, notifications: NaN, scheduling: NaN };
    const at = (k: keyof typeof seen, ok: boolean) => { if (ok && Number.isNaN(seen[k])) seen[k] = performance.now() - started; };
    const inProjection = async (pool: pg.Pool, table: string) => (await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE person_id = $1::uuid AND account_id = ANY($2::uuid[])`, [personId, accountIds])).rows[0]!.n;
    const noticesToPerson = async () => (await notifications.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM message WHERE recipient_person_id = $1::uuid AND template LIKE 'access_granted%'`, [personId])).rows[0]!.n;
    for (const deadline = Date.now() + timeoutMs; Object.values(seen).some(Number.isNaN); await sleep(10)) {
      if (Number.isNaN(seen.completed)) {
        const op = await (await fetch(`${system.url('directory')}/operations/${body.operationId}`, { headers })).json() as { status: string };
        if (op.status === 'failed') throw new Error(`operation ${body.operationId} failed`);
        at('completed', op.status === 'completed');
      }
      if (Number.isNaN(seen.notice)) at('notice', (await noticesToPerson()) > 0);
      if (Number.isNaN(seen.notifications)) at('notifications', (await inProjection(notifications, 'person_membership')) === accounts);
      if (Number.isNaN(seen.scheduling)) at('scheduling', (await inProjection(scheduling, 'membership')) === accounts);
      if (Date.now() > deadline) throw new Error(`bulk access to ${accounts} accounts after ${timeoutMs / 1000} s: ${JSON.stringify(seen)} (NaN = not yet)`);
    }
    await sleep(1000); // any further e-mail about the grant would be queued by now
    return {
      accounts, answeredMs, completedMs: seen.completed, noticeQueuedMs: seen.notice,
      everywhereMs: Math.max(...Object.values(seen)), messagesToPerson: await noticesToPerson(),
    };
  } finally {
    await Promise.all([notifications.end(), scheduling.end()]);
  }
}
