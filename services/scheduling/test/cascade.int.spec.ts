import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { EventOf } from '@roster/contracts';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { hoursFromNow, manager, SchedulingHarness } from './support/harness.js';

// The scheduling column of the cascade table, fed by real directory events on the memory bus.
describe('deactivation cascades in scheduling (cascade table, B1, rule 3; Postgres)', () => {
  const h = new SchedulingHarness();
  beforeAll(() => h.start('roster_cascade'));
  afterAll(() => h.stop());

  const visit = async (tenantId: string, clientId: string, sitterId: string | null, startH: number) => {
    const r = await h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt: hoursFromNow(startH), endsAt: hoursFromNow(startH + 1) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  const read = async (tenantId: string, id: string) => (await h.http('GET', `/visits/${id}`, manager(tenantId))).body;
  const eventsOf = <T extends 'visits.unassigned' | 'visits.deleted'>(type: T, subject: string) =>
    h.published.filter((e) => e.type === type && e.subject === subject) as EventOf<T>[];

  it('sitter deactivated: upcoming visits unassigned, default sitter cleared, schedules kept without sitter, managers told how many; the dry run said the same and changed nothing', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const other = await h.clientAndSitter(tenantId);
    assert.equal((await h.http('PUT', `/clients/${clientId}/default-sitter`, manager(tenantId), { sitterId })).body.defaultSitterId, sitterId);
    const upcoming = [await visit(tenantId, clientId, sitterId, 24), await visit(tenantId, clientId, sitterId, 48)];
    const past = await visit(tenantId, clientId, sitterId, -48);
    const completed = await visit(tenantId, clientId, sitterId, 72);
    await h.http('POST', `/visits/${completed}/complete`, manager(tenantId), { early: true });
    const othersVisit = await visit(tenantId, other.clientId, other.sitterId, 24);
    const schedule = await h.http('POST', '/schedules', manager(tenantId), {
      clientId: other.clientId, sitterId, rrule: 'FREQ=WEEKLY;BYDAY=MO', timeZone: 'Europe/London', startTime: '09:00', durationMinutes: 30,
    });
    assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
    assert.ok(schedule.body.visitsGenerated >= 7, 'eight weeks of Mondays');
    const expectedUnassigned = upcoming.length + schedule.body.visitsGenerated;

    const previewOp = randomUUID();
    await h.feed(h.preview(tenantId, sitterId, 'staff', previewOp));
    const [preview] = h.stepsOf(previewOp);
    assert.equal(preview?.outcome, 'previewed');
    assert.equal(preview?.dryRun, true);
    assert.deepEqual(preview?.counts, { visitsUnassigned: expectedUnassigned, defaultSitterCleared: 1, schedulesWithoutSitter: 1 });
    assert.equal((await read(tenantId, upcoming[0]!)).sitterId, sitterId, 'the dry run changed nothing');
    assert.equal(eventsOf('visits.unassigned', sitterId).length, 0);

    const op = randomUUID();
    await h.feed(h.lifecycle('user.deactivated', tenantId, sitterId, 'staff', undefined, op));
    const [step] = h.stepsOf(op);
    assert.equal(step?.outcome, 'applied');
    assert.equal(step?.step, 'unassign_upcoming_visits');
    assert.deepEqual(step?.counts, preview?.counts, 'the dry run counted exactly what happened');

    for (const id of upcoming) assert.equal((await read(tenantId, id)).sitterId, null);
    assert.equal((await read(tenantId, past)).sitterId, sitterId, 'history is kept');
    assert.equal((await read(tenantId, completed)).sitterId, sitterId, 'completed visits are kept');
    assert.equal((await read(tenantId, othersVisit)).sitterId, other.sitterId);
    assert.equal((await h.http('GET', `/clients/${clientId}`, manager(tenantId))).body.defaultSitterId, null);
    const schedules = await h.http('GET', `/schedules?clientId=${other.clientId}`, manager(tenantId));
    assert.deepEqual(schedules.body.items.map((s: { id: string; sitterId: string | null }) => [s.id, s.sitterId]), [[schedule.body.id, null]]);
    const unassigned = await h.http('GET', `/visits?unassigned=true&limit=500`, manager(tenantId));
    assert.equal(unassigned.body.items.length, expectedUnassigned);

    const [told] = eventsOf('visits.unassigned', sitterId);
    assert.equal(told?.data.visitCount, expectedUnassigned);
    assert.equal(told?.data.defaultSitterClearedFor, 1);
    assert.deepEqual(told?.data.chunk, { index: 0, total: 1 });
    assert.deepEqual([...told!.data.visitIds].sort(), unassigned.body.items.map((v: { id: string }) => v.id).sort());
    assert.equal(told?.correlationid, op, 'the event belongs to the cascade');

    const again = await h.http('PATCH', `/visits/${upcoming[0]}`, manager(tenantId), { sitterId });
    assert.equal(again.status, 422, 'an inactive sitter cannot be given the visit back');
  });

  it('tells managers in chunks of 1,000 ids when a sitter had thousands of upcoming visits', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    await h.db.$executeRawUnsafe(
      `WITH v AS (
         INSERT INTO visit (id, tenant_id, client_id, starts_at, ends_at)
         SELECT gen_random_uuid(), $1::uuid, $2::uuid, now() + make_interval(hours => g), now() + make_interval(hours => g + 1)
         FROM generate_series(1, 2345) g RETURNING id, starts_at
       ) INSERT INTO visit_assignment (visit_id, tenant_id, sitter_id, starts_at) SELECT id, $1::uuid, $3::uuid, starts_at FROM v`,
      tenantId, clientId, sitterId,
    );
    const op = randomUUID();
    await h.feed(h.lifecycle('user.deactivated', tenantId, sitterId, 'staff', undefined, op));
    await waitFor('three chunks', () => eventsOf('visits.unassigned', sitterId).length === 3);
    const chunks = eventsOf('visits.unassigned', sitterId).sort((a, b) => a.data.chunk.index - b.data.chunk.index);
    assert.deepEqual(chunks.map((c) => [c.data.chunk.index, c.data.chunk.total, c.data.visitIds.length, c.data.visitCount]), [
      [0, 3, 1000, 2345], [1, 3, 1000, 2345], [2, 3, 345, 2345],
    ]);
    assert.equal(new Set(chunks.flatMap((c) => c.data.visitIds)).size, 2345);
    assert.deepEqual(h.stepsOf(op).map((s) => s.counts.visitsUnassigned), [2345]);
  });

  it('no visit stays with a sitter whose deactivation raced with assignments: each assignment lands before (and is released) or is refused', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const open = await Promise.all(Array.from({ length: 10 }, (_, i) => visit(tenantId, clientId, null, 24 + i)));
    const deactivated = h.lifecycle('user.deactivated', tenantId, sitterId, 'staff');
    const racing = Promise.all([
      ...open.map((id) => h.http('PATCH', `/visits/${id}`, manager(tenantId), { sitterId })),
      ...Array.from({ length: 10 }, (_, i) => h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt: hoursFromNow(50 + i), endsAt: hoursFromNow(51 + i) })),
    ]);
    await h.feed(deactivated);
    const replies = await racing;
    assert.ok(replies.every((r) => [200, 201, 422].includes(r.status)), JSON.stringify(replies.map((r) => r.status)));
    const [left] = await h.db.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM visit_assignment WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid AND starts_at > now()`, tenantId, sitterId,
    );
    assert.equal(left?.n, 0);
  });

  it('a sitter with no upcoming visit who was a default sitter: managers are still told, in one event', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    await h.http('PUT', `/clients/${clientId}/default-sitter`, manager(tenantId), { sitterId });
    await h.feed(h.lifecycle('user.deactivated', tenantId, sitterId, 'staff'));
    const told = eventsOf('visits.unassigned', sitterId);
    assert.deepEqual(told.map((e) => [e.data.visitCount, e.data.visitIds.length, e.data.defaultSitterClearedFor, e.data.chunk.total]), [[0, 0, 1, 1]]);
  });

  it('client deactivated: incomplete future visits and their surcharges deleted, schedules removed, past and completed visits kept', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const future = await visit(tenantId, clientId, sitterId, 24);
    await h.http('POST', `/visits/${future}/surcharges`, manager(tenantId), { amount: 10, reason: 'Late booking' });
    const unassignedFuture = await visit(tenantId, clientId, null, 30);
    const past = await visit(tenantId, clientId, sitterId, -24);
    await h.http('POST', `/visits/${past}/surcharges`, manager(tenantId), { amount: 5, reason: 'Extra walk' });
    const completed = await visit(tenantId, clientId, sitterId, 40);
    await h.http('POST', `/visits/${completed}/complete`, manager(tenantId), { early: true });
    const schedule = (await h.http('POST', '/schedules', manager(tenantId), {
      clientId, rrule: 'FREQ=DAILY', timeZone: 'America/New_York', startTime: '18:00', durationMinutes: 45,
    })).body;

    const previewOp = randomUUID();
    await h.feed(h.preview(tenantId, clientId, 'client', previewOp));
    const expected = { visitsDeleted: 2 + schedule.visitsGenerated, surchargesDeleted: 1, schedulesRemoved: 1, requestsWithdrawn: 0 };
    assert.deepEqual(h.stepsOf(previewOp)[0]?.counts, expected);

    const op = randomUUID();
    await h.feed(h.lifecycle('user.deactivated', tenantId, clientId, 'client', undefined, op));
    const [step] = h.stepsOf(op);
    assert.equal(step?.step, 'delete_upcoming_visits');
    assert.deepEqual(step?.counts, expected);
    assert.equal((await h.http('GET', `/visits/${future}`, manager(tenantId))).status, 404);
    assert.equal((await h.http('GET', `/visits/${unassignedFuture}`, manager(tenantId))).status, 404);
    const kept = await h.http('GET', `/visits?clientId=${clientId}`, manager(tenantId));
    assert.deepEqual(kept.body.items.map((v: { id: string }) => v.id), [past, completed]);
    assert.deepEqual(kept.body.items[0].surcharges.map((s: { amount: number }) => s.amount), [5], 'a past visit keeps its surcharge');
    assert.deepEqual((await h.http('GET', `/schedules?clientId=${clientId}`, manager(tenantId))).body.items, []);
    const [count] = await h.db.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM surcharge WHERE tenant_id = $1::uuid', tenantId);
    assert.equal(count?.n, 1);
    const [deleted] = eventsOf('visits.deleted', clientId);
    assert.deepEqual(deleted?.data, { clientId, visitCount: expected.visitsDeleted, surchargeCount: 1, scheduleCount: 1 });

    const refused = await h.http('POST', '/visits', manager(tenantId), { clientId, startsAt: hoursFromNow(3), endsAt: hoursFromNow(4) });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.type, 'https://roster.dev/problems/client-inactive');
  });

  it('user archived does what deactivation does; restore changes no visit and its step says so', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const v = await visit(tenantId, clientId, sitterId, 24);
    const archiveOp = randomUUID();
    await h.feed(h.lifecycle('user.archived', tenantId, sitterId, 'staff', undefined, archiveOp));
    assert.deepEqual(h.stepsOf(archiveOp)[0]?.counts, { visitsUnassigned: 1, defaultSitterCleared: 0, schedulesWithoutSitter: 0 });
    assert.equal((await read(tenantId, v)).sitterId, null);
    const restoreOp = randomUUID();
    await h.feed(h.lifecycle('user.restored', tenantId, sitterId, 'staff', undefined, restoreOp));
    const [restored] = h.stepsOf(restoreOp);
    assert.equal(restored?.step, 'keep_visits_unchanged');
    assert.equal(restored?.outcome, 'no_change');
    assert.match(restored?.detail ?? '', /stay so/);
    assert.equal((await read(tenantId, v)).sitterId, null, 'what was unassigned stays unassigned');
  });

  it('rule 3: deactivation then reactivation ends active with the visits still unassigned; a reactivation overtaking its deactivation ends active with nothing unassigned', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const v1 = await visit(tenantId, clientId, sitterId, 24);
    const deactivate = randomUUID();
    const reactivate = randomUUID();
    await h.feed(h.lifecycle('user.deactivated', tenantId, sitterId, 'staff', 2, deactivate));
    await h.feed(h.lifecycle('user.reactivated', tenantId, sitterId, 'staff', 3, reactivate));
    assert.equal(h.stepsOf(deactivate)[0]?.outcome, 'applied');
    assert.match(h.stepsOf(reactivate)[0]?.detail ?? '', /reactivation changes no visit/);
    assert.equal((await read(tenantId, v1)).sitterId, null, 'reactivation gives nothing back');
    assert.equal((await h.http('PATCH', `/visits/${v1}`, manager(tenantId), { sitterId })).status, 200, 'active again: assignable');

    const late = await h.clientAndSitter(tenantId);
    const v2 = await visit(tenantId, late.clientId, late.sitterId, 24);
    const newer = randomUUID();
    const older = randomUUID();
    await h.feed(h.lifecycle('user.reactivated', tenantId, late.sitterId, 'staff', 3, newer));
    await h.feed(h.lifecycle('user.deactivated', tenantId, late.sitterId, 'staff', 2, older));
    assert.equal(h.stepsOf(older)[0]?.outcome, 'stale_ignored');
    assert.equal(h.stepsOf(older)[0]?.step, 'unassign_upcoming_visits');
    assert.equal((await read(tenantId, v2)).sitterId, late.sitterId, 'the older deactivation unassigned nothing');
    assert.equal(eventsOf('visits.unassigned', late.sitterId).length, 0);
    const v3 = await visit(tenantId, late.clientId, late.sitterId, 48);
    assert.equal((await read(tenantId, v3)).sitterId, late.sitterId, 'the newest version (active) wins');

    // A stale client deactivation is reported under the step it would have been: deleting visits.
    const clientNewer = randomUUID();
    const clientOlder = randomUUID();
    await h.feed(h.lifecycle('user.reactivated', tenantId, late.clientId, 'client', 3, clientNewer));
    await h.feed(h.lifecycle('user.deactivated', tenantId, late.clientId, 'client', 2, clientOlder));
    assert.deepEqual(h.stepsOf(clientOlder).map((s) => [s.step, s.outcome]), [['delete_upcoming_visits', 'stale_ignored']]);
    assert.equal((await read(tenantId, v3)).sitterId, late.sitterId, 'the client\'s visits stay');
  });

  it('a bad event goes to dead letters after its retries, changes nothing, and the consumer keeps going', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const v = await visit(tenantId, clientId, sitterId, 24);
    const dead: string[] = [];
    await h.bus.consumeDeadLetters('scheduling', async (d) => void dead.push(String(d.eventId)));
    // Valid for the catalogue (an id is any short string), not for scheduling: person ids are UUIDs.
    const bad = h.lifecycle('user.deactivated', tenantId, 'not-a-uuid', 'staff');
    await h.bus.publish([bad]);
    await waitFor('the dead letter', () => dead.includes(bad.id), 20_000);
    const [claimed] = await h.db.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM inbox WHERE event_id = $1', bad.id);
    assert.equal(claimed?.n, 0, 'the claim rolled back with the failure');
    await h.feed(h.lifecycle('user.deactivated', tenantId, sitterId, 'staff'));
    assert.equal((await read(tenantId, v)).sitterId, null, 'the next event is handled');
  });
});
