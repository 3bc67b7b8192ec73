import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { startSystem, type System, type SystemOptions } from './support/system.js';

/**
 * The foundation's thin slice, the same on every transport: directory `POST /people` and
 * `POST /people/{id}/deactivate` → `user.deactivated` through the outbox and the bus → identity,
 * scheduling and notifications each apply their part and record a cascade step → directory's
 * `GET /operations/{id}` shows the steps and `completed` (cascade table, P5, B1, B4).
 */
export function deactivationSlice(name: string, options: () => Promise<SystemOptions>, timeoutMs = 15_000): void {
  describe(`deactivation cascade slice on ${name}`, () => {
    let system: System;
    let tenantId: string;
    let accountId: string;
    let owner: Record<string, string>;

    beforeAll(async () => {
      system = await startSystem(await options());
      const tenant = await fetch(`${system.url('directory')}/tenants`, {
        method: 'POST',
        headers: { ...system.operator(randomUUID()), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Slice Pets', owner: { firstName: 'Olive', lastName: 'Owner', email: 'olive@slice.example' } }),
      });
      assert.equal(tenant.status, 201);
      const created = (await tenant.json()) as { tenantId: string; rootAccountId: string; ownerId: string };
      ({ tenantId, rootAccountId: accountId } = created);
      owner = system.tokens.bearer({ tenantId, personId: created.ownerId, roles: ['owner'] });
    });
    afterAll(async () => {
      await system?.stop();
    });

    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = owner, service: 'directory' | 'scheduling' = 'directory') => {
      const res = await fetch(`${system.url(service)}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
    };

    const createSitter = async () => {
      const res = await call('POST', '/people', { kind: 'staff', firstName: 'Sam', lastName: 'Sitter', email: `sam.${randomUUID().slice(0, 8)}@example.com`, accountId, roleKey: 'staff' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };

    // Visits through scheduling's API once it knows the sitter and a client (from the directory's events).
    const seedVisits = async (sitterId: string) => {
      const client = await call('POST', '/people', { kind: 'client', firstName: 'Cat', lastName: 'Owner', accountId });
      assert.equal(client.status, 201, JSON.stringify(client.body));
      const hour = 3_600_000;
      const visit = async (at: number) => {
        const body = { clientId: client.body.id, sitterId, startsAt: new Date(at).toISOString(), endsAt: new Date(at + hour).toISOString() };
        const res = await waitFor('scheduling to know the sitter and the client', async () => {
          const r = await call('POST', '/visits', body, owner, 'scheduling');
          return r.status === 201 ? r : r.status === 400 || r.status === 404 ? null : assert.fail(JSON.stringify(r.body));
        });
        return res.body.id as string;
      };
      for (const at of [24, 48, 72]) await visit(Date.now() + at * hour);
      await visit(Date.now() - 24 * hour); // past: kept
      const completed = await visit(Date.now() + 96 * hour); // completed: kept
      assert.equal((await call('POST', `/visits/${completed}/complete`, { early: true }, owner, 'scheduling')).status, 200);
    };

    const assignedVisits = async (sitterId: string) => {
      const res = await call('GET', `/visits?sitterId=${sitterId}&limit=100`, undefined, owner, 'scheduling');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.items as unknown[]).length;
    };

    const settled = async (operationId: string) =>
      waitFor(`operation ${operationId} to finish`, async () => {
        const res = await call('GET', `/operations/${operationId}`);
        return res.status === 200 && res.body.status !== 'pending' ? res.body : null;
      }, timeoutMs);

    it('deactivating a sitter runs the cascade in identity, scheduling and notifications and the operation completes', async () => {
      const sitterId = await createSitter();
      await seedVisits(sitterId);
      const res = await call('POST', `/people/${sitterId}/deactivate`, { reason: 'left the company' });
      assert.equal(res.status, 202);
      assert.match(res.body.operationId, /^[0-9a-f-]{36}$/);

      const operation = await settled(res.body.operationId);
      assert.equal(operation.status, 'completed');
      assert.equal(operation.dryRun, false);
      assert.deepEqual(operation.waitingFor, []);
      const byService = Object.fromEntries(operation.steps.map((s: { service: string }) => [s.service, s]));
      assert.deepEqual(Object.keys(byService).sort(), ['identity', 'notifications', 'scheduling']);
      assert.equal(byService.scheduling.step, 'unassign_upcoming_visits');
      assert.equal(byService.scheduling.counts.visitsUnassigned, 3);
      assert.equal(byService.identity.outcome, 'applied');
      assert.equal(await assignedVisits(sitterId), 2, 'the past and the completed visit keep their sitter');

      const person = await call('GET', `/people/${sitterId}`);
      assert.equal(person.body.status, 'inactive');
      assert.equal(person.body.version, 2);

      // What an SRE scrapes: each service's own publications and consumption.
      const metricsOf = async (service: 'directory' | 'scheduling') => (await fetch(`${system.url(service)}/metrics`)).text();
      assert.match(await metricsOf('directory'), /roster_events_published_total\{[^}]*type="user.deactivated"[^}]*\} [1-9]/);
      const scheduling = await metricsOf('scheduling');
      assert.match(scheduling, /roster_events_consumed_total\{[^}]*group="scheduling"[^}]*type="user.deactivated"[^}]*outcome="handled"[^}]*\} [1-9]/);
      // The relay reads its backlog at most once a second, after a pass: the gauge may still show
      // the step event it has just published.
      await waitFor('scheduling\'s outbox gauge to show nothing pending', async () => /roster_outbox_pending\{[^}]*\} 0\n/.test(await metricsOf('scheduling')), timeoutMs);
    });

    it('issue 16 item 3: completed only once every effect it caused is recorded; the e-mails it caused carry its causation and trace', async () => {
      const sitterId = await createSitter();
      await seedVisits(sitterId);
      const res = await call('POST', `/people/${sitterId}/deactivate`, {});
      const operation = await settled(res.body.operationId);
      assert.equal(operation.status, 'completed', JSON.stringify(operation));
      // The follow-up (scheduling's visits.unassigned → the managers' e-mail) is a step of the operation.
      const told = operation.steps.find((s: { step: string }) => s.step === 'tell_managers_visits_need_sitter');
      assert.ok(told, `no step for the managers' e-mail: ${JSON.stringify(operation.steps)}`);
      assert.deepEqual([told.service, told.counts.messages], ['notifications', 1]);
      assert.equal(operation.progress.notifications.reported, operation.progress.notifications.expected);
      // The e-mail is queued under the operation, and not after the operation says it completed.
      const log = await fetch(`${system.url('notifications')}/messages?template=visits_need_sitter`, { headers: owner });
      const mine = ((await log.json()) as { items: { cause: { operationId: string; eventId: string } | null; createdAt: string }[] }).items
        .filter((m) => m.cause?.operationId === operation.id);
      assert.equal(mine.length, 1);
      assert.ok(Date.parse(operation.completedAt) >= Date.parse(mine[0]!.createdAt), `completedAt ${operation.completedAt} is before the e-mail ${mine[0]!.createdAt}: ${JSON.stringify(operation)}`);

      // Every event of the cascade names the event it reacts to and continues its trace.
      const outboxOf = async (service: 'scheduling' | 'notifications', type: string) =>
        system.services[service].ctx.prisma.$queryRawUnsafe<{ envelope: Record<string, string> }[]>(
          "SELECT envelope FROM outbox WHERE type = $1 AND envelope->>'correlationid' = $2", type, operation.id,
        );
      const [unassigned] = await outboxOf('scheduling', 'visits.unassigned');
      assert.ok(unassigned);
      // Scheduling's step names the follow-up it caused, which is why the operation awaited it.
      const steps = await outboxOf('scheduling', 'cascade.step.completed');
      assert.deepEqual(steps.map((r) => (r.envelope as unknown as { data: { followUps?: unknown } }).data.followUps), [[{ id: unassigned.envelope.id, type: 'visits.unassigned' }]]);
      assert.equal(mine[0]!.cause?.eventId, unassigned.envelope.id);
      const [sent] = await waitFor('notification.sent of the managers\' e-mail', async () => {
        const rows = await outboxOf('notifications', 'notification.sent');
        return rows.length > 0 ? rows : null;
      }, timeoutMs);
      assert.equal(sent!.envelope.causationid, unassigned.envelope.id, 'notification.sent names the event that queued the e-mail');
      assert.equal(sent!.envelope.traceparent?.split('-')[1], operation.traceId, 'and continues the cascade\'s trace');
      assert.equal(unassigned.envelope.traceparent?.split('-')[1], operation.traceId);
    });

    it('a dry run reports the same counts and changes nothing (B1)', async () => {
      const sitterId = await createSitter();
      await seedVisits(sitterId);
      const res = await call('POST', `/people/${sitterId}/deactivate`, { dryRun: true });
      assert.equal(res.status, 202);
      const preview = await settled(res.body.operationId);
      assert.equal(preview.dryRun, true);
      assert.equal(preview.status, 'completed');
      const scheduling = preview.steps.find((s: { service: string }) => s.service === 'scheduling');
      assert.equal(scheduling.outcome, 'previewed');
      assert.equal(scheduling.counts.visitsUnassigned, 3);
      assert.equal(await assignedVisits(sitterId), 5, 'no visit was touched');
      assert.equal((await call('GET', `/people/${sitterId}`)).body.status, 'active');

      const real = await settled((await call('POST', `/people/${sitterId}/deactivate`, {})).body.operationId);
      const realScheduling = real.steps.find((s: { service: string }) => s.service === 'scheduling');
      assert.deepEqual(realScheduling.counts, scheduling.counts, 'the preview predicted the real run');
    });

    it('reactivation right after deactivation ends active everywhere (rule 3)', async () => {
      const sitterId = await createSitter();
      const first = await call('POST', `/people/${sitterId}/deactivate`, {});
      const second = await call('POST', `/people/${sitterId}/reactivate`, {});
      assert.equal(second.status, 202);
      await settled(first.body.operationId);
      const op = await settled(second.body.operationId);
      assert.equal(op.status, 'completed');
      for (const service of ['identity', 'scheduling', 'notifications'] as const) {
        const rows = await system.services[service].ctx.prisma.$queryRawUnsafe<{ status: string; version: number }[]>(
          'SELECT status, version FROM person_projection WHERE id = $1::uuid', sitterId,
        );
        assert.deepEqual(rows[0], { status: 'active', version: 3 }, `${service} ends active`);
      }
    });

    it('refuses bad input with a precise problem and changes nothing', async () => {
      const sitterId = await createSitter();
      const invalid = await call('POST', '/people', { kind: 'robot', firstName: '', accountId: 'nope' });
      assert.equal(invalid.status, 400);
      assert.match(invalid.type, /application\/problem\+json/);
      assert.deepEqual(invalid.body.errors.map((e: { path: string }) => e.path).sort(), ['body.accountId', 'body.firstName', 'body.kind', 'body.lastName']);

      const badJson = await call('POST', '/people', '{"kind": "staff",');
      assert.equal(badJson.status, 400);
      assert.equal(badJson.body.title, 'Invalid JSON');

      const huge = await call('POST', '/people', { kind: 'staff', firstName: 'x'.repeat(300_000), lastName: 'y', accountId });
      assert.equal(huge.status, 413);

      const unknown = await call('GET', '/no-such-thing');
      assert.equal(unknown.status, 404);
      assert.match(unknown.type, /application\/problem\+json/);

      const forged = await call('POST', `/people/${sitterId}/deactivate`, {}, { authorization: `Bearer ${owner.authorization!.slice(7, -4)}AAAA` });
      assert.equal(forged.status, 401);

      const otherTenant = await call('POST', `/people/${sitterId}/deactivate`, {}, system.tokens.bearer({ tenantId: randomUUID(), roles: ['owner'] }));
      assert.equal(otherTenant.status, 404, "another tenant's person does not exist for you");

      const again = await call('POST', `/people/${sitterId}/reactivate`, {});
      assert.equal(again.status, 409, 'reactivating an active person is a conflict');
      assert.equal((await call('GET', `/people/${sitterId}`)).body.status, 'active');
    });
  });
}
