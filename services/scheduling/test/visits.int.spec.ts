import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { hoursFromNow, manager, SchedulingHarness } from './support/harness.js';

// S1, S2 over HTTP on Postgres: visits created, listed in scope, assigned, completed, surcharged.
describe('visits (S1, S2) through HTTP (scheduling, Postgres)', () => {
  const h = new SchedulingHarness();
  beforeAll(() => h.start('roster_visits'));
  afterAll(() => h.stop());

  const newVisit = (clientId: string, sitterId: string | null | undefined, startH = 24, body: Record<string, unknown> = {}) => ({
    clientId, ...(sitterId !== undefined ? { sitterId } : {}), startsAt: hoursFromNow(startH), endsAt: hoursFromNow(startH + 1), ...body,
  });

  it('S1: a manager creates a visit with a sitter; it is listed for the manager, the sitter and the client, and in no other tenant', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const created = await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, sitterId, 24, { service: 'Dog walk' }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.sitterId, sitterId);
    assert.equal(created.body.status, 'scheduled');
    assert.equal(created.body.service, 'Dog walk');

    for (const who of [manager(tenantId), { tenantId, personId: sitterId, roles: ['staff'] }, { tenantId, personId: clientId, roles: ['client'] }]) {
      const list = await h.http('GET', '/visits', who);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.items.map((v: { id: string }) => v.id), [created.body.id], `visible to ${who.roles}`);
    }
    const elsewhere = randomUUID();
    assert.deepEqual((await h.http('GET', '/visits', manager(elsewhere))).body.items, []);
    const foreign = await h.http('GET', `/visits/${created.body.id}`, manager(elsewhere));
    assert.equal(foreign.status, 404);
    assert.match(String(foreign.type), /^application\/problem\+json/);
  });

  it('S2: a sitter sees only their own schedule, a client only their own visits, a salesperson only their assigned clients', async () => {
    const tenantId = randomUUID();
    const a = await h.clientAndSitter(tenantId);
    const b = await h.clientAndSitter(tenantId);
    const salesperson = randomUUID();
    await h.feed(h.clientAssigned(tenantId, b.clientId, salesperson));
    const va = (await h.http('POST', '/visits', manager(tenantId), newVisit(a.clientId, a.sitterId))).body.id;
    const vb = (await h.http('POST', '/visits', manager(tenantId), newVisit(b.clientId, b.sitterId))).body.id;
    const ids = async (who: Parameters<typeof h.http>[2], query = '') => (await h.http('GET', `/visits${query}`, who)).body.items.map((v: { id: string }) => v.id);

    assert.deepEqual(await ids({ tenantId, personId: a.sitterId, roles: ['staff'] }), [va]);
    assert.deepEqual(await ids({ tenantId, personId: b.clientId, roles: ['client'] }), [vb]);
    assert.deepEqual(await ids({ tenantId, personId: salesperson, roles: ['salesperson'] }), [vb]);
    assert.deepEqual(await ids({ tenantId, personId: a.sitterId, roles: ['staff'] }, `?sitterId=${b.sitterId}`), [], 'a filter never widens the scope');
    assert.equal((await h.http('GET', `/visits/${vb}`, { tenantId, personId: a.sitterId, roles: ['staff'] })).status, 404);
    assert.deepEqual((await ids(manager(tenantId))).sort(), [va, vb].sort());
    assert.equal((await h.http('GET', '/visits', { tenantId, roles: ['standard'], permissions: ['people.read'] })).status, 403);
  });

  it('S2: managers assign, reassign and unassign; the unassigned list shows what needs a sitter', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const other = h.personCreated(tenantId, 'staff');
    await h.feed(other);
    const visit = (await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, null))).body;
    assert.equal(visit.sitterId, null);
    const unassigned = async () => (await h.http('GET', '/visits?unassigned=true', manager(tenantId))).body.items.map((v: { id: string }) => v.id);
    assert.deepEqual(await unassigned(), [visit.id]);

    assert.equal((await h.http('PATCH', `/visits/${visit.id}`, manager(tenantId), { sitterId })).body.sitterId, sitterId);
    assert.deepEqual(await unassigned(), []);
    assert.equal((await h.http('PATCH', `/visits/${visit.id}`, manager(tenantId), { sitterId: other.data.personId })).body.sitterId, other.data.personId);
    assert.equal((await h.http('PATCH', `/visits/${visit.id}`, manager(tenantId), { sitterId: null })).body.sitterId, null);
    assert.deepEqual(await unassigned(), [visit.id]);
    const bySitter = await h.http('PATCH', `/visits/${visit.id}`, { tenantId, personId: sitterId, roles: ['staff'] }, { sitterId });
    assert.equal(bySitter.status, 403, 'a sitter does not assign visits');
  });

  it('refuses bad input with a precise problem and changes nothing: end before start, inactive, foreign or unknown sitter, unknown client', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const foreign = await h.clientAndSitter(randomUUID());
    const gone = h.personCreated(tenantId, 'staff');
    await h.feed(gone, h.lifecycle('user.deactivated', tenantId, gone.data.personId, 'staff'));

    const backwards = await h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt: hoursFromNow(5), endsAt: hoursFromNow(4) });
    assert.equal(backwards.status, 400);
    assert.match(String(backwards.type), /^application\/problem\+json/);
    assert.deepEqual(backwards.body.errors.map((e: { path: string }) => e.path), ['body.endsAt']);

    // Another tenant's person reads exactly like one that does not exist: 404; an inactive one: 422.
    const cases: [string, unknown, number, string][] = [
      ['inactive sitter', newVisit(clientId, gone.data.personId), 422, 'sitter-inactive'],
      ['sitter of another tenant', newVisit(clientId, foreign.sitterId), 404, 'sitter-unknown'],
      ['a client given as sitter', newVisit(clientId, clientId), 404, 'sitter-unknown'],
      ['client of another tenant', newVisit(foreign.clientId, sitterId), 404, 'client-unknown'],
    ];
    for (const [what, body, status, slug] of cases) {
      const r = await h.http('POST', '/visits', manager(tenantId), body);
      assert.equal(r.status, status, what);
      assert.match(String(r.type), /^application\/problem\+json/);
      assert.equal(r.body.type, `https://roster.dev/problems/${slug}`, what);
    }
    const visit = (await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, sitterId))).body;
    const reassign = await h.http('PATCH', `/visits/${visit.id}`, manager(tenantId), { sitterId: gone.data.personId });
    assert.equal(reassign.status, 422);
    assert.equal(reassign.body.type, 'https://roster.dev/problems/sitter-inactive');
    assert.equal((await h.http('PATCH', `/visits/${visit.id}`, manager(tenantId), { sitterId: 'not-a-uuid' })).status, 400);
    const list = await h.http('GET', '/visits', manager(tenantId));
    assert.deepEqual(list.body.items.map((v: { id: string; sitterId: string }) => [v.id, v.sitterId]), [[visit.id, sitterId]], 'nothing else was created or changed');
    assert.equal((await h.http('GET', '/visits?status=cancelled', manager(tenantId))).status, 400);
    assert.equal((await h.http('GET', '/visits?cursor=bogus', manager(tenantId))).status, 400);
    const backwardsPeriod = await h.http('GET', `/visits?from=${encodeURIComponent(hoursFromNow(5))}&to=${encodeURIComponent(hoursFromNow(4))}`, manager(tenantId));
    assert.deepEqual([backwardsPeriod.status, backwardsPeriod.body.errors?.[0]?.path], [400, 'query.to']);
  });

  it('S2: a sitter completes their own visit, not another sitter\'s; a manager completes any; completing twice is a conflict', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const other = await h.clientAndSitter(tenantId);
    const mine = (await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, sitterId, -2))).body;
    const theirs = (await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, other.sitterId, -2))).body;
    const sitter = { tenantId, personId: sitterId, roles: ['staff'] };

    const done = await h.http('POST', `/visits/${mine.id}/complete`, sitter);
    assert.equal(done.status, 200);
    assert.equal(done.body.status, 'completed');
    assert.equal(done.body.completedBy, sitterId);
    assert.equal((await h.http('POST', `/visits/${mine.id}/complete`, sitter)).status, 409);
    assert.equal((await h.http('POST', `/visits/${theirs.id}/complete`, sitter)).status, 404, 'another sitter\'s visit is not even visible');
    assert.equal((await h.http('POST', `/visits/${theirs.id}/complete`, { tenantId, personId: clientId, roles: ['client'] })).status, 403, 'the client sees the visit but does not complete it');
    assert.equal((await h.http('GET', `/visits/${theirs.id}`, manager(tenantId))).body.status, 'scheduled');
    assert.equal((await h.http('POST', `/visits/${theirs.id}/complete`, manager(tenantId))).body.status, 'completed');
    assert.deepEqual((await h.http('GET', '/visits?status=completed', sitter)).body.items.map((v: { id: string }) => v.id), [mine.id]);
    const reassign = await h.http('PATCH', `/visits/${mine.id}`, manager(tenantId), { sitterId: other.sitterId });
    assert.equal(reassign.status, 409, 'a completed visit keeps its sitter');
    assert.equal(reassign.body.status, 409, 'RFC 9457: status is the HTTP status (issue 16)');
    assert.equal(reassign.body.state, 'completed');
  });

  it('S1: surcharges are added to a visit and listed with it; bad amounts are refused', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const visit = (await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, sitterId))).body;
    const added = await h.http('POST', `/visits/${visit.id}/surcharges`, manager(tenantId), { amount: 12.5, reason: 'Holiday' });
    assert.equal(added.status, 201);
    assert.deepEqual([added.body.amount, added.body.reason, added.body.visitId], [12.5, 'Holiday', visit.id]);
    for (const bad of [{ amount: -1, reason: 'x' }, { amount: 1.234, reason: 'x' }, { amount: 5, reason: '' }, { amount: 5 }]) {
      const r = await h.http('POST', `/visits/${visit.id}/surcharges`, manager(tenantId), bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    assert.equal((await h.http('POST', `/visits/${visit.id}/surcharges`, manager(randomUUID()), { amount: 1, reason: 'x' })).status, 404);
    const read = await h.http('GET', `/visits/${visit.id}`, { tenantId, personId: clientId, roles: ['client'] });
    assert.deepEqual(read.body.surcharges.map((s: { amount: number }) => s.amount), [12.5]);
  });

  it('lists by period and status in start order, page by page with a cursor', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await h.http('POST', '/visits', manager(tenantId), newVisit(clientId, sitterId, i * 24))).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await h.http('GET', `/visits?clientId=${clientId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, manager(tenantId));
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((v) => v.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ids);
    const window = await h.http('GET', `/visits?from=${encodeURIComponent(hoursFromNow(36))}&to=${encodeURIComponent(hoursFromNow(84))}`, manager(tenantId));
    assert.deepEqual(window.body.items.map((v: { id: string }) => v.id), ids.slice(1, 3));
  });
});
