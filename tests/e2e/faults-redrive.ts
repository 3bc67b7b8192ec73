import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { sample } from '../../packages/platform/test/support/metrics.js';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { addUpcomingVisits, listVisits, NODE_TS, provisionTenant, query } from './faults-support.js';
import { OPERATOR_KEY, startSystem, type System } from './support/system.js';

const cli = fileURLToPath(new URL('../../scripts/roster.mjs', import.meta.url));

function roster(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...NODE_TS, cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Listed { eventId: string; eventType: string; reason: string; attempts: number; redriven?: boolean }

/**
 * The SRE's story of a stuck cascade (B4, rule 2): scheduling's database refuses to change visits,
 * its handler fails until the event is dead-lettered and the operation waits for scheduling.
 * `roster trace` says so, `roster dead-letters list` shows the event with the reason and the
 * attempts; once the database is fixed, `roster dead-letters redrive` sends it again and the
 * cascade completes, every effect once.
 */
export function redriveStory(name: string, busUrl: string): void {
  describe(`roster dead-letters on ${name}: a dead-lettered step is listed, redriven and completes`, () => {
    let system: System;
    let tenantId: string;
    let accountId: string;
    let headers: Record<string, string>;
    const db = (s: 'scheduling' | 'identity' | 'notifications' | 'directory') => system.envOf(s).DATABASE_URL!;
    /** `roster_dead_letter_depth` of scheduling's consumer group, as its /metrics shows it. */
    const deadLetterDepth = async (): Promise<number | undefined> =>
      sample(await (await fetch(`${system.url('scheduling')}/metrics`)).text(), 'roster_dead_letter_depth', { group: 'scheduling' });

    beforeAll(async () => {
      system = await startSystem({ busUrl, database: 'postgres' });
      ({ tenantId, accountId } = await provisionTenant(system.url('directory'), system.operator, 'Redrive Pets'));
      headers = { ...system.operator(tenantId), 'content-type': 'application/json' };
    });
    afterAll(async () => system?.stop());

    it('lists the dead letter with its reason and attempts, redrives it, and the operation completes once', async () => {
      const created = await fetch(`${system.url('directory')}/people`, {
        method: 'POST', headers, body: JSON.stringify({ kind: 'staff', firstName: 'Rob', lastName: 'Redrive', accountId, roleKey: 'staff' }),
      });
      assert.equal(created.status, 201);
      const { id: sitterId } = (await created.json()) as { id: string };
      const client = await fetch(`${system.url('directory')}/people`, {
        method: 'POST', headers, body: JSON.stringify({ kind: 'client', firstName: 'Cal', lastName: 'Client', accountId }),
      });
      const clientId = ((await client.json()) as { id: string }).id;
      const schedulingAuth = system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never);
      await addUpcomingVisits(system.url('scheduling'), schedulingAuth, clientId, sitterId, 1);

      // Scheduling's database refuses any change to its people (a broken migration, a lock held too long ...).
      await query(db('scheduling'), `CREATE FUNCTION refuse_changes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'person_projection is read-only during maintenance'; END $$`);
      await query(db('scheduling'), `CREATE TRIGGER read_only BEFORE INSERT OR UPDATE ON person_projection FOR EACH STATEMENT EXECUTE FUNCTION refuse_changes()`);

      const res = await fetch(`${system.url('directory')}/people/${sitterId}/deactivate`, { method: 'POST', headers, body: '{}' });
      assert.equal(res.status, 202);
      const { operationId } = (await res.json()) as { operationId: string };
      const [event] = await query<{ id: string }>(db('directory'), `SELECT id FROM outbox WHERE type = 'user.deactivated' AND subject = $1`, [sitterId]);
      const env = { BUS_URL: busUrl, BUS_NAMESPACE: system.namespace };

      // The SRE's view: the operation waits for scheduling, and scheduling's dead letters say why.
      const listed = await waitFor('the event in scheduling\'s dead letters', async () => {
        const out = await roster(['dead-letters', 'list', 'scheduling', '--json'], env);
        assert.equal(out.code, 0, out.stderr);
        return (JSON.parse(out.stdout) as Listed[]).find((d) => d.eventId === event!.id && !d.redriven);
      }, 60_000, 500);
      assert.equal(listed.eventType, 'user.deactivated');
      assert.equal(listed.attempts, 5);
      assert.match(listed.reason, /handler failed 5 times: [\s\S]*person_projection is read-only during maintenance/);
      const table = await roster(['dead-letters', 'list', 'scheduling'], env);
      assert.match(table.stdout, new RegExp(`${event!.id}\\s+user\\.deactivated\\s+5\\s`));
      const trace = await waitFor('identity and notifications to have reported', async () => {
        const out = await roster(['trace', operationId, '--tenant', tenantId, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
        return /waiting for: scheduling \(0\/1 steps\)\n/.test(out.stdout) ? out : null;
      }, 30_000, 300);
      assert.equal(trace.code, 3, trace.stderr);
      assert.match(trace.stdout, /status PENDING/);

      // Listing took nothing away: the dead letter is still there.
      const again = await roster(['dead-letters', 'list', 'scheduling', '--json'], env);
      assert.ok((JSON.parse(again.stdout) as Listed[]).some((d) => d.eventId === event!.id && !d.redriven), 'list does not consume');
      // What an alert would watch (rule 9): scheduling's /metrics counts it.
      await waitFor("scheduling's /metrics to show one dead letter waiting", async () => (await deadLetterDepth()) === 1, 15_000, 500);

      // Fixed; redriven.
      await query(db('scheduling'), 'DROP TRIGGER read_only ON person_projection');
      const redrive = await roster(['dead-letters', 'redrive', 'scheduling', '--json'], env);
      assert.equal(redrive.code, 0, redrive.stderr);
      const result = JSON.parse(redrive.stdout) as { redriven: { eventId: string }[]; keptBack: unknown[] };
      assert.deepEqual(result.redriven.map((d) => d.eventId), [event!.id]);

      await waitFor("scheduling's /metrics to show no dead letter waiting", async () => (await deadLetterDepth()) === 0, 15_000, 500);
      await waitFor('the operation to complete', async () => {
        const op = await (await fetch(`${system.url('directory')}/operations/${operationId}`, { headers })).json() as { status: string };
        return op.status === 'completed';
      }, 60_000, 200);
      const visits = await listVisits(system.url('scheduling'), schedulingAuth, { clientId });
      assert.deepEqual(visits.map((v) => v.sitterId), [null], 'the visit was unassigned');
      // The redrive reached every subscriber of the type; those that had handled it changed nothing.
      for (const s of ['identity', 'scheduling', 'notifications'] as const) {
        const rows = await query(db(s), 'SELECT 1 FROM inbox WHERE event_id = $1', [event!.id]);
        assert.equal(rows.length, 1, `${s} handled the event once`);
      }
      const steps = await query<{ service: string; cause_type: string }>(db('directory'), 'SELECT service, cause_type FROM operation_step WHERE operation_id = $1::uuid', [operationId]);
      // One step per service and event of the cascade: the deactivation's three, and notifications' for the follow-up (issue 16 item 3).
      assert.deepEqual(steps.map((r) => `${r.service}:${r.cause_type}`).sort(),
        ['identity:user.deactivated', 'notifications:user.deactivated', 'notifications:visits.unassigned', 'scheduling:user.deactivated'], 'one step per service and event');
      const after = await roster(['dead-letters', 'list', 'scheduling', '--json'], env);
      assert.ok(!(JSON.parse(after.stdout) as Listed[]).some((d) => d.eventId === event!.id && !d.redriven), 'nothing left to redrive');
    }, 180_000);
  });
}
