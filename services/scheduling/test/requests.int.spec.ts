import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { EventOf } from '@roster/contracts';
import { hoursFromNow, manager, SchedulingHarness, type Caller } from './support/harness.js';

// S3 over HTTP on Postgres: a client asks, managers answer once, the system declines what can no
// longer be granted, a client's deactivation withdraws what is pending (C1).
describe('client requests (S3) through HTTP (scheduling, Postgres)', () => {
  const h = new SchedulingHarness();
  beforeAll(() => h.start('roster_requests'));
  afterAll(() => h.stop());

  const client = (tenantId: string, personId: string): Caller => ({ tenantId, personId, roles: ['client'] });
  const window = (startH: number, service?: string) => ({ startsAt: hoursFromNow(startH), endsAt: hoursFromNow(startH + 1), ...(service ? { service } : {}) });
  const published = <T extends 'request.submitted' | 'request.approved' | 'request.declined'>(type: T, requestId: string) =>
    h.published.filter((e): e is EventOf<T> => e.type === type && (e.data as { requestId: string }).requestId === requestId);

  /** A client whose default sitter is `sitterId`, both active. */
  async function clientWithDefaultSitter(tenantId: string) {
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const set = await h.http('PUT', `/clients/${clientId}/default-sitter`, manager(tenantId), { sitterId });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    return { clientId, sitterId };
  }

  it('a client asks for two visits; a manager sees it pending and approves: the visits exist with the default sitter, request.approved says so', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await clientWithDefaultSitter(tenantId);
    const asked = await h.http('POST', '/requests', client(tenantId, clientId), {
      kind: 'visits', visits: [window(48, 'walk'), window(72, 'walk')], note: 'the key is with the neighbour', timeZone: 'Europe/London',
    });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    assert.equal(asked.body.status, 'pending');
    assert.equal(asked.body.clientId, clientId);
    await h.settled();
    const [submitted] = published('request.submitted', asked.body.id);
    assert.equal(submitted?.subject, clientId);
    assert.equal(submitted?.data.clientName, 'Cleo Tester');
    assert.equal(submitted?.data.visits.length, 2);
    assert.deepEqual(submitted?.data.actor, { kind: 'person', personId: clientId, impersonatorId: null });

    const pending = await h.http('GET', '/requests?status=pending', manager(tenantId));
    assert.deepEqual(pending.body.items.map((r: { id: string }) => r.id), [asked.body.id]);
    const managerId = randomUUID();
    const approved = await h.http('POST', `/requests/${asked.body.id}/approve`, { ...manager(tenantId), personId: managerId });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    assert.equal(approved.body.answeredBy, managerId);
    assert.equal(approved.body.visitIds.length, 2);
    for (const id of approved.body.visitIds) {
      const visit = await h.http('GET', `/visits/${id}`, client(tenantId, clientId));
      assert.equal(visit.body.sitterId, sitterId, 'the client\'s default sitter takes the visit');
      assert.equal(visit.body.service, 'walk');
      assert.equal(visit.body.timeZone, 'Europe/London');
    }
    await h.settled();
    const [event] = published('request.approved', asked.body.id);
    assert.deepEqual(event?.data.visitIds, approved.body.visitIds);
    assert.equal(event?.data.sitterId, sitterId);
    assert.equal(event?.data.actor.personId, managerId);

    // Answered once: a second approval or a decline is a 409 that changes nothing.
    for (const [path, body] of [['approve', undefined], ['decline', { reason: 'too late' }]] as const) {
      const again = await h.http('POST', `/requests/${asked.body.id}/${path}`, manager(tenantId), body);
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal(again.body.status, 409);
      assert.equal(again.body.state, 'approved');
    }
    assert.equal((await h.http('GET', `/visits?clientId=${clientId}`, manager(tenantId))).body.items.length, 2, 'no visit created twice');
    await h.settled();
    assert.equal(published('request.approved', asked.body.id).length, 1);
    assert.equal(published('request.declined', asked.body.id).length, 0);
  });

  it('without a default sitter the visits are unassigned; a decline carries its reason; the client withdraws a pending one, not an answered one', async () => {
    const tenantId = randomUUID();
    const { clientId } = await h.clientAndSitter(tenantId);
    const ask = async () => (await h.http('POST', '/requests', client(tenantId, clientId), { kind: 'visits', visits: [window(30)] })).body.id as string;
    const [first, second, third] = [await ask(), await ask(), await ask()];

    const approved = await h.http('POST', `/requests/${first}/approve`, manager(tenantId));
    assert.equal((await h.http('GET', `/visits/${approved.body.visitIds[0]}`, manager(tenantId))).body.sitterId, null);
    const unassigned = await h.http('GET', '/visits?unassigned=true', manager(tenantId));
    assert.deepEqual(unassigned.body.items.map((v: { id: string }) => v.id), approved.body.visitIds);

    const declined = await h.http('POST', `/requests/${second}/decline`, manager(tenantId), { reason: 'no sitter free that day' });
    assert.equal(declined.body.status, 'declined');
    assert.equal(declined.body.declineReason, 'no sitter free that day');
    await h.settled();
    assert.equal(published('request.declined', second)[0]?.data.reason, 'no sitter free that day');

    const withdrawn = await h.http('DELETE', `/requests/${third}`, client(tenantId, clientId));
    assert.equal(withdrawn.status, 200, JSON.stringify(withdrawn.body));
    assert.equal(withdrawn.body.status, 'withdrawn');
    assert.equal((await h.http('DELETE', `/requests/${second}`, client(tenantId, clientId))).status, 409);
    const statuses = async (q: string) => (await h.http('GET', `/requests?status=${q}`, client(tenantId, clientId))).body.items.map((r: { id: string }) => r.id);
    assert.deepEqual(await statuses('withdrawn'), [third]);
    assert.deepEqual(await statuses('declined'), [second]);
    assert.deepEqual(await statuses('approved'), [first]);
    assert.deepEqual(await statuses('pending'), []);
  });

  it('a change moves the visit and a cancellation removes it, once approved; a request about a visit that is gone is declined by the system', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const visit = async (startH: number) =>
      (await h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt: hoursFromNow(startH), endsAt: hoursFromNow(startH + 1) })).body.id as string;
    const [moving, cancelling, completing] = [await visit(24), await visit(48), await visit(72)];

    const newWindow = window(26);
    const change = await h.http('POST', '/requests', client(tenantId, clientId), { kind: 'change', visitId: moving, visits: [newWindow] });
    assert.equal(change.status, 201, JSON.stringify(change.body));
    assert.equal((await h.http('POST', `/requests/${change.body.id}/approve`, manager(tenantId))).status, 200);
    const moved = await h.http('GET', `/visits/${moving}`, manager(tenantId));
    assert.equal(moved.body.startsAt, newWindow.startsAt);
    assert.equal(moved.body.sitterId, sitterId, 'a moved visit keeps its sitter');

    // Two requests about the same visit: the first cancellation approved, the other declined by the system.
    const cancel = (await h.http('POST', '/requests', client(tenantId, clientId), { kind: 'cancel', visitId: cancelling })).body.id;
    const alsoCancel = (await h.http('POST', '/requests', client(tenantId, clientId), { kind: 'change', visitId: cancelling, visits: [window(50)] })).body.id;
    assert.equal((await h.http('POST', `/requests/${cancel}/approve`, manager(tenantId))).status, 200);
    assert.equal((await h.http('GET', `/visits/${cancelling}`, manager(tenantId))).status, 404);
    const orphan = await h.http('GET', `/requests/${alsoCancel}`, manager(tenantId));
    assert.equal(orphan.body.status, 'declined');
    assert.equal(orphan.body.declineReason, 'the visit no longer exists');
    assert.equal(orphan.body.answeredBy, null);

    // A visit completed while a change was pending: the system declines the change with the reason.
    const late = (await h.http('POST', '/requests', client(tenantId, clientId), { kind: 'cancel', visitId: completing })).body.id;
    assert.equal((await h.http('POST', `/visits/${completing}/complete`, manager(tenantId), { early: true })).status, 200);
    const refused = await h.http('POST', `/requests/${late}/approve`, manager(tenantId));
    assert.equal(refused.status, 409);
    assert.equal(refused.body.state, 'declined');
    await h.settled();
    const [byTheSystem] = published('request.declined', late);
    assert.equal(byTheSystem?.data.reason, 'the visit was completed');
    assert.deepEqual(byTheSystem?.data.actor, { kind: 'system', personId: null, impersonatorId: null });
    assert.equal(published('request.declined', alsoCancel)[0]?.data.reason, 'the visit no longer exists');
    assert.deepEqual(published('request.declined', cancel), [], 'the approved cancellation is not also declined');
    assert.equal((await h.http('GET', `/requests/${cancel}`, manager(tenantId))).body.status, 'approved');
  });

  it('bad input is a precise 4xx that stores nothing: a window in the past, a visit of another client, an unknown zone, another client, a bad shape', async () => {
    const tenantId = randomUUID();
    const a = await h.clientAndSitter(tenantId);
    const b = await h.clientAndSitter(tenantId);
    const visitOfB = (await h.http('POST', '/visits', manager(tenantId), { clientId: b.clientId, startsAt: hoursFromNow(24), endsAt: hoursFromNow(25) })).body.id;
    const me = client(tenantId, a.clientId);
    const cases: [number, string, Record<string, unknown>, Caller][] = [
      [422, 'body.visits[0].startsAt', { kind: 'visits', visits: [window(-2)] }, me],
      [404, 'body.visitId', { kind: 'cancel', visitId: visitOfB }, me],
      [404, 'body.visitId', { kind: 'cancel', visitId: randomUUID() }, me],
      [400, 'body.timeZone', { kind: 'visits', visits: [window(5)], timeZone: 'Mars/Olympus_Mons' }, me],
      [403, '', { kind: 'visits', clientId: b.clientId, visits: [window(5)] }, me],
      [400, 'body.visits', { kind: 'change', visitId: visitOfB }, me],
      [400, 'body.visitId', { kind: 'cancel' }, me],
      [400, 'body.visits.0.endsAt', { kind: 'visits', visits: [{ startsAt: hoursFromNow(5), endsAt: hoursFromNow(4) }] }, me],
      [400, 'body.clientId', { kind: 'visits', visits: [window(5)] }, manager(tenantId)],
      [403, '', { kind: 'visits', visits: [window(5)] }, { tenantId, personId: a.sitterId, roles: ['staff'] }],
    ];
    for (const [status, path, body, who] of cases) {
      const reply = await h.http('POST', '/requests', who, body);
      assert.equal(reply.status, status, `${JSON.stringify(body)} → ${JSON.stringify(reply.body)}`);
      assert.match(String(reply.type), /^application\/problem\+json/);
      assert.equal(reply.body.status, status);
      if (path) assert.ok(JSON.stringify(reply.body.errors ?? []).includes(path), `${path} in ${JSON.stringify(reply.body)}`);
    }
    assert.deepEqual((await h.http('GET', '/requests', manager(tenantId))).body.items, [], 'nothing stored');
    assert.equal((await h.http('POST', `/requests/${randomUUID()}/decline`, manager(tenantId), { reason: '' })).status, 400);
    assert.equal((await h.http('POST', `/requests/${randomUUID()}/approve`, manager(tenantId))).status, 404);
  });

  it('scopes (rule 8): a client sees only their own, a salesperson their assigned clients\', another tenant nothing; a client cannot answer', async () => {
    const tenantId = randomUUID();
    const a = await h.clientAndSitter(tenantId);
    const b = await h.clientAndSitter(tenantId);
    const salesperson = randomUUID();
    await h.feed(h.clientAssigned(tenantId, b.clientId, salesperson));
    const ra = (await h.http('POST', '/requests', client(tenantId, a.clientId), { kind: 'visits', visits: [window(10)] })).body.id;
    const rb = (await h.http('POST', '/requests', manager(tenantId), { kind: 'visits', clientId: b.clientId, visits: [window(10)] })).body.id;
    const ids = async (who: Caller) => (await h.http('GET', '/requests', who)).body.items.map((r: { id: string }) => r.id);
    assert.deepEqual(await ids(client(tenantId, a.clientId)), [ra]);
    assert.deepEqual(await ids(client(tenantId, b.clientId)), [rb]);
    assert.deepEqual(await ids({ tenantId, personId: salesperson, roles: ['salesperson'] }), [rb]);
    assert.deepEqual(await ids({ tenantId, personId: a.sitterId, roles: ['staff'] }), []);
    assert.deepEqual(await ids(manager(randomUUID())), []);
    assert.equal((await h.http('GET', `/requests/${ra}`, client(tenantId, b.clientId))).status, 404);
    assert.equal((await h.http('POST', `/requests/${ra}/approve`, client(tenantId, a.clientId))).status, 403);
    assert.equal((await h.http('DELETE', `/requests/${ra}`, client(tenantId, b.clientId))).status, 404);
    assert.equal((await h.http('POST', `/requests/${ra}/approve`, manager(randomUUID()))).status, 404);
  });

  it('C1: a deactivated client\'s pending requests are withdrawn with their future visits; the step counts them; answered ones stay', async () => {
    const tenantId = randomUUID();
    const { clientId } = await h.clientAndSitter(tenantId);
    const ask = async () => (await h.http('POST', '/requests', client(tenantId, clientId), { kind: 'visits', visits: [window(40)] })).body.id as string;
    const [answered, pending] = [await ask(), await ask()];
    await h.http('POST', `/requests/${answered}/decline`, manager(tenantId), { reason: 'full' });

    const preview = h.preview(tenantId, clientId, 'client');
    await h.feed(preview);
    assert.equal(h.stepsOf(preview.correlationid)[0]?.counts.requestsWithdrawn, 1, 'the dry run counts them');
    const deactivation = h.lifecycle('user.deactivated', tenantId, clientId, 'client');
    await h.feed(deactivation);
    const [step] = h.stepsOf(deactivation.correlationid);
    assert.equal(step?.counts.requestsWithdrawn, 1);
    assert.equal((await h.http('GET', `/requests/${pending}`, manager(tenantId))).body.status, 'withdrawn');
    assert.equal((await h.http('GET', `/requests/${answered}`, manager(tenantId))).body.status, 'declined');
    const after = await h.http('POST', '/requests', manager(tenantId), { kind: 'visits', clientId, visits: [window(40)] });
    assert.equal(after.status, 422, 'no request for an inactive client');
  });
});
