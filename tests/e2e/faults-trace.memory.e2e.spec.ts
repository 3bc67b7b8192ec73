import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { MemoryBus } from '@roster/platform/bus/memory';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { OPERATOR_KEY, startSystem, type System } from './support/system.js';
import { addUpcomingVisits, provisionTenant } from './faults-support.js';

const cli = fileURLToPath(new URL('../../scripts/roster.mjs', import.meta.url));

/** Runs `roster <args>` as an SRE would, with only the given environment (no test credentials leak in). */
function roster(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// B4: `roster trace <operationId>` prints a cascade's timeline for an SRE — each service's step,
// outcome, counts, duration and offset from the command — and says where a cascade stopped.
describe('roster trace: the timeline of a deactivation cascade (B4)', () => {
  let system: System;
  let tenantId: string;
  let accountId: string;
  let clientId: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    system = await startSystem({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'pglite' });
    ({ tenantId, accountId } = await provisionTenant(system.url('directory'), system.operator, 'Timeline Pets'));
    headers = { ...system.operator(tenantId), 'content-type': 'application/json' };
    const client = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'client', firstName: 'Cal', lastName: 'Client', accountId }),
    });
    clientId = ((await client.json()) as { id: string }).id;
  });
  afterAll(async () => system?.stop());

  const deactivateSitter = async () => {
    const created = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'staff', firstName: 'Tara', lastName: 'Timeline', accountId, roleKey: 'staff' }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    await addUpcomingVisits(system.url('scheduling'), system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never), clientId, id, 1);
    const res = await fetch(`${system.url('directory')}/people/${id}/deactivate`, { method: 'POST', headers, body: '{}' });
    assert.equal(res.status, 202);
    return ((await res.json()) as { operationId: string }).operationId;
  };
  const completed = (operationId: string) => waitFor('the operation to complete', async () =>
    ((await (await fetch(`${system.url('directory')}/operations/${operationId}`, { headers })).json()) as { status: string }).status === 'completed');

  it('prints each service\'s step, outcome, counts, duration and offset, with the operator key', async () => {
    const operationId = await deactivateSitter();
    await completed(operationId);
    const out = await roster(['trace', operationId, '--tenant', tenantId, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`operation ${operationId}.*status COMPLETED`));
    const lines = out.stdout.split('\n');
    for (const service of ['identity', 'scheduling', 'notifications']) {
      assert.ok(lines.some((l) => new RegExp(`^\\s+\\+\\S+ ms\\s+${service}\\s+\\w+\\s+(applied|no_change)\\s+\\S+ ms`).test(l)), `a line for ${service}:\n${out.stdout}`);
    }
    assert.match(out.stdout, /scheduling .*visitsUnassigned=1/);
    assert.match(out.stdout, /every expected service reported/);

    const json = await roster(['trace', operationId, '--json', `--tenant=${tenantId}`, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
    const timeline = JSON.parse(json.stdout) as { status: string; totalMs: number; steps: { service: string; offsetMs: number; durationMs: number }[] };
    assert.equal(timeline.status, 'completed');
    // The deactivation's three steps and notifications' for the visits it unassigned (issue 16 item 3).
    assert.deepEqual(timeline.steps.map((s) => s.service).sort(), ['identity', 'notifications', 'notifications', 'scheduling']);
    for (const s of timeline.steps) {
      assert.ok(s.offsetMs >= 0 && s.offsetMs <= timeline.totalMs, `offset ${s.offsetMs} within the cascade's ${timeline.totalMs} ms`);
      assert.ok(s.durationMs >= 0);
    }
  });

  it('accepts a bearer token instead (ROSTER_TOKEN)', async () => {
    const operationId = await deactivateSitter();
    await completed(operationId);
    const token = system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never).authorization.slice('Bearer '.length);
    const out = await roster(['trace', operationId, '--url', system.url('directory')], { ROSTER_TOKEN: token });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /status COMPLETED/);
  });

  it('says what is wrong: no credentials, an unknown operation, another tenant', async () => {
    const operationId = await deactivateSitter();
    const none = await roster(['trace', operationId, '--url', system.url('directory')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no credentials: set ROSTER_TOKEN/);
    const noTenant = await roster(['trace', operationId, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
    assert.equal(noTenant.code, 2);
    assert.match(noTenant.stderr, /--tenant/);
    const unknown = await roster(['trace', randomUUID(), '--tenant', tenantId, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not found/);
    const elsewhere = await roster(['trace', operationId, '--tenant', randomUUID(), '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
    assert.equal(elsewhere.code, 1, 'another tenant\'s operation does not exist for you');
    const wrongKey = await roster(['trace', operationId, '--tenant', tenantId, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: 'not-the-key-not-the-key' });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /401/);
  });

  it('shows where a cascade stopped: scheduling is down, the operation waits for it (exit 3)', async () => {
    await system.services.scheduling.stop();
    const operationId = await deactivateSitterWithoutScheduling();
    const out = await waitFor('identity and notifications to report', async () => {
      const r = await roster(['trace', operationId, '--tenant', tenantId, '--url', system.url('directory')], { ROSTER_OPERATOR_KEY: OPERATOR_KEY });
      return /identity/.test(r.stdout) && /notifications/.test(r.stdout) ? r : null;
    }, 20_000, 200);
    assert.equal(out.code, 3);
    assert.match(out.stdout, /status PENDING/);
    assert.match(out.stdout, /waiting for: scheduling/);
  });

  // Scheduling is stopped: the sitter is made without its visits.
  const deactivateSitterWithoutScheduling = async () => {
    const created = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'staff', firstName: 'Sol', lastName: 'Stuck', accountId, roleKey: 'staff' }),
    });
    const { id } = (await created.json()) as { id: string };
    const res = await fetch(`${system.url('directory')}/people/${id}/deactivate`, { method: 'POST', headers, body: '{}' });
    return ((await res.json()) as { operationId: string }).operationId;
  };
});
