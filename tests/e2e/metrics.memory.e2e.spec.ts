import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { ServiceName } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { sample } from './faults.js';
import { addUpcomingVisits, provisionTenant } from './faults-support.js';
import { startSystem, type System } from './support/system.js';

const CONSUMERS = ['identity', 'scheduling', 'notifications'] as const;

// Rule 9: what an SRE scrapes from /metrics moves when a deactivation cascades: each consumer's
// step duration histogram, consumer lag, outbox lag (while the relay cannot publish), token
// revocations in every service, dead letters when a message cannot be read.
describe('a deactivation moves the SRE metrics of every service (rule 9)', () => {
  let system: System;
  let bus: MemoryBus;
  let tenantId: string;
  let accountId: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    bus = new MemoryBus();
    system = await startSystem({ busUrl: 'memory:', sharedBus: bus, database: 'pglite' });
    ({ tenantId, accountId } = await provisionTenant(system.url('directory'), system.operator, 'Metric Pets'));
    headers = { ...system.operator(tenantId), 'content-type': 'application/json' };
  });
  afterAll(async () => system?.stop());

  const metrics = async (service: ServiceName) => (await fetch(`${system.url(service)}/metrics`)).text();

  it('step durations, consumer lag, outbox lag, revocations and dead letters', async () => {
    const created = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'staff', firstName: 'Max', lastName: 'Metric', accountId, roleKey: 'staff' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const sitterId = ((await created.json()) as { id: string }).id;
    const client = await fetch(`${system.url('directory')}/people`, {
      method: 'POST', headers, body: JSON.stringify({ kind: 'client', firstName: 'Cal', lastName: 'Client', accountId }),
    });
    const clientId = ((await client.json()) as { id: string }).id;
    // Scheduling accepts the visit once it knows both people: the creation has landed before the "before" picture.
    await addUpcomingVisits(system.url('scheduling'), system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never), clientId, sitterId, 1);
    await new Promise((r) => setTimeout(r, 300));
    const beforeText = Object.fromEntries(await Promise.all([...CONSUMERS, 'directory' as const].map(async (s) => [s, await metrics(s)])));

    // The directory's relay finds the outbox lock taken (as when another replica holds it): the deactivation waits in the outbox.
    const relay = system.services.directory.ctx.relay as unknown as { relayBatch: () => Promise<number> };
    relay.relayBatch = async () => 0;
    const res = await fetch(`${system.url('directory')}/people/${sitterId}/deactivate`, { method: 'POST', headers, body: JSON.stringify({ reason: 'left' }) });
    assert.equal(res.status, 202);
    const { operationId } = (await res.json()) as { operationId: string };
    await waitFor('roster_outbox_pending to show the waiting event', async () => {
      const text = await metrics('directory');
      return sample(text, 'roster_outbox_pending', { service: 'directory' }) >= 1 && sample(text, 'roster_outbox_oldest_age_seconds', { service: 'directory' }) > 0;
    }, 10_000, 100);
    delete (relay as { relayBatch?: unknown }).relayBatch; // the prototype's again
    system.services.directory.ctx.relay.nudge();

    const operation = await waitFor('the operation to complete', async () => {
      const op = await (await fetch(`${system.url('directory')}/operations/${operationId}`, { headers })).json() as { status: string; steps: { service: string; step: string; outcome: string }[] };
      return op.status === 'completed' ? op : null;
    });
    await waitFor('the outbox drained', async () => sample(await metrics('directory'), 'roster_outbox_pending', { service: 'directory' }) === 0);

    for (const service of CONSUMERS) {
      const step = operation.steps.find((s) => s.service === service)!;
      const text = await metrics(service);
      const moved = (name: string, labels: Record<string, string>) => sample(text, name, labels) - sample(beforeText[service]!, name, labels);
      assert.equal(moved('roster_cascade_step_duration_seconds_count', { service, step: step.step, outcome: step.outcome }), 1, `${service} observed its step ${step.step}`);
      assert.ok(sample(text, 'roster_cascade_step_duration_seconds_sum', { service, step: step.step }) > 0, `${service}'s step took some time`);
      assert.ok(moved('roster_consumer_lag_seconds_count', { group: service, type: 'user.deactivated' }) >= 1, `${service} measured its consumer lag`);
      assert.ok(sample(text, 'roster_consumer_lag_seconds_sum', { group: service, type: 'user.deactivated' }) > 0, 'the event waited in the outbox: lag is above zero');
    }
    for (const service of [...CONSUMERS, 'directory'] as const) {
      await waitFor(`${service} to count the revocation`, async () =>
        sample(await metrics(service), 'roster_token_revocations_total', { reason: 'user.deactivated' }) - sample(beforeText[service]!, 'roster_token_revocations_total', { reason: 'user.deactivated' }) === 1);
    }

    // A message nobody can read: each consumer dead-letters it and counts it.
    await bus.publishRaw('user.deactivated', sitterId, {
      headers: { 'content-type': 'application/json', ce_specversion: '1.0', ce_id: `poison-${randomUUID()}`, ce_type: 'user.deactivated', ce_source: 'test', ce_subject: sitterId },
      body: '{"personId": ',
    });
    for (const service of CONSUMERS) {
      await waitFor(`${service} to count the dead letter`, async () => sample(await metrics(service), 'roster_dead_letters_total', { group: service }) >= 1);
    }
  });
});
