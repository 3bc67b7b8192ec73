import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { extendScheduleHorizons, HORIZON_DAYS } from '../src/schedules/generation.js';
import { hoursFromNow, manager, SchedulingHarness } from './support/harness.js';

// S1, B7: recurring schedules generate visits over a rolling horizon, across DST, never twice.
describe('recurring schedules and default sitters (S1, B7; Postgres)', () => {
  const h = new SchedulingHarness();
  beforeAll(() => h.start('roster_schedules'));
  afterAll(() => h.stop());

  const schedule = (tenantId: string, body: Record<string, unknown>) => h.http('POST', '/schedules', manager(tenantId), body);
  const visitsOf = async (tenantId: string, scheduleId: string) => {
    const rows = await h.db.$queryRawUnsafe<{ id: string; starts_at: Date; ends_at: Date; sitter_id: string | null; occurrence_local: Date; status: string }[]>(
      `SELECT v.id, v.starts_at, v.ends_at, a.sitter_id, v.occurrence_local, v.status FROM visit v LEFT JOIN visit_assignment a ON a.visit_id = v.id
       WHERE v.tenant_id = $1::uuid AND v.schedule_id = $2::uuid ORDER BY v.starts_at`, tenantId, scheduleId,
    );
    // The assignment's copies of start and completion never drift from the visit's.
    const [drift] = await h.db.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM visit v JOIN visit_assignment a ON a.visit_id = v.id
       WHERE v.tenant_id = $1::uuid AND (a.starts_at <> v.starts_at OR a.completed <> (v.status = 'completed'))`, tenantId,
    );
    assert.equal(drift?.n, 0);
    return rows;
  };
  const localTimes = (rows: { starts_at: Date }[], zone: string) => rows.map((r) => DateTime.fromJSDate(r.starts_at, { zone }).toFormat('yyyy-MM-dd HH:mm'));

  it('creates a schedule and its visits up to the horizon, each at the wall-clock time in its zone', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const created = await schedule(tenantId, { clientId, sitterId, rrule: 'FREQ=WEEKLY;BYDAY=MO,TH', timeZone: 'America/New_York', startTime: '07:15', durationMinutes: 40, service: 'Walk' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rows = await visitsOf(tenantId, created.body.id);
    assert.equal(rows.length, created.body.visitsGenerated);
    assert.ok(rows.length >= 15 && rows.length <= 17, `two a week for ${HORIZON_DAYS} days, got ${rows.length}`);
    for (const r of rows) {
      const t = DateTime.fromJSDate(r.starts_at, { zone: 'America/New_York' });
      assert.ok(['Mon', 'Thu'].includes(t.toFormat('ccc')) && t.toFormat('HH:mm') === '07:15', t.toISO()!);
      assert.equal(r.ends_at.getTime() - r.starts_at.getTime(), 40 * 60_000);
      assert.equal(r.sitter_id, sitterId);
    }
    const listed = await h.http('GET', `/schedules?clientId=${clientId}`, manager(tenantId));
    assert.deepEqual(listed.body.items.map((s: { id: string; rrule: string; timeZone: string }) => [s.id, s.rrule, s.timeZone]), [[created.body.id, 'FREQ=WEEKLY;BYDAY=MO,TH', 'America/New_York']]);
    const visit = await h.http('GET', `/visits/${rows[0]!.id}`, { tenantId, personId: sitterId, roles: ['staff'] });
    assert.deepEqual([visit.body.scheduleId, visit.body.timeZone, visit.body.service], [created.body.id, 'America/New_York', 'Walk']);
    assert.deepEqual((await h.http('GET', '/schedules', manager(randomUUID()))).body.items, [], 'never another tenant\'s');
  });

  for (const [zone, springFrom, fallFrom] of [['Europe/London', '2027-03-24', '2027-10-27'], ['America/New_York', '2027-03-10', '2027-11-03']] as const) {
    it(`B7: the horizon job keeps a 09:00 daily visit at 09:00 through spring-forward and fall-back in ${zone}, and never duplicates a visit`, async () => {
      const tenantId = randomUUID();
      const { clientId } = await h.clientAndSitter(tenantId);
      for (const startDate of [springFrom, fallFrom]) {
        const s = (await schedule(tenantId, { clientId, sitterId: null, rrule: 'FREQ=DAILY', timeZone: zone, startTime: '09:00', durationMinutes: 30, startDate })).body;
        assert.equal(s.visitsGenerated, 0, 'nothing yet: it starts after the horizon');
        const then = DateTime.fromISO(startDate, { zone }).toJSDate();
        // Two replicas run the job at once, then the whole horizon is generated again (as after a
        // crash that lost generated_until): still one visit per occurrence.
        await Promise.all([extendScheduleHorizons(h.db, then), extendScheduleHorizons(h.db, then)]);
        await h.db.$executeRawUnsafe('UPDATE schedule SET generated_until = NULL WHERE id = $1::uuid', s.id);
        assert.equal(await extendScheduleHorizons(h.db, new Date(then.getTime() + 3_600_000)), 0, 'nothing new to create');
        const rows = await visitsOf(tenantId, s.id);
        assert.equal(rows.length, HORIZON_DAYS);
        assert.equal(new Set(rows.map((r) => r.occurrence_local.toISOString())).size, rows.length);
        const times = localTimes(rows, zone);
        assert.ok(times.every((t) => t.endsWith(' 09:00')), times.find((t) => !t.endsWith(' 09:00')));
        const offsets = new Set(rows.slice(0, 10).map((r) => DateTime.fromJSDate(r.starts_at, { zone }).offset));
        assert.equal(offsets.size, 2, 'the first ten days cross a DST change');
      }
    });
  }

  it('B7: on New York\'s nights of change, a 01:30 visit happens once (at the first 01:30) and a 02:30 visit moves to 03:30 EDT', async () => {
    const tenantId = randomUUID();
    const { clientId } = await h.clientAndSitter(tenantId);
    const zone = 'America/New_York';
    const fall = (await schedule(tenantId, { clientId, rrule: 'FREQ=DAILY', timeZone: zone, startTime: '01:30', durationMinutes: 30, startDate: '2027-11-05' })).body;
    const spring = (await schedule(tenantId, { clientId, rrule: 'FREQ=DAILY', timeZone: zone, startTime: '02:30', durationMinutes: 30, startDate: '2027-03-12' })).body;
    await extendScheduleHorizons(h.db, new Date('2027-03-12T00:00:00Z'));
    await extendScheduleHorizons(h.db, new Date('2027-11-05T00:00:00Z'));
    const fallNight = (await visitsOf(tenantId, fall.id)).filter((r) => DateTime.fromJSDate(r.starts_at, { zone }).toISODate() === '2027-11-07');
    assert.deepEqual(fallNight.map((r) => r.starts_at.toISOString()), ['2027-11-07T05:30:00.000Z']);
    const springNight = (await visitsOf(tenantId, spring.id)).find((r) => r.occurrence_local.toISOString().startsWith('2027-03-14T02:30'));
    assert.equal(springNight?.starts_at.toISOString(), '2027-03-14T07:30:00.000Z');
  });

  it('B7: editing a schedule regenerates its upcoming visits without duplicates; a new sitter takes them over; deleting it keeps the completed ones', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const other = h.personCreated(tenantId, 'staff');
    await h.feed(other);
    const s = (await schedule(tenantId, { clientId, sitterId, rrule: 'FREQ=DAILY', timeZone: 'Europe/London', startTime: '09:00', durationMinutes: 30 })).body;
    const before = await visitsOf(tenantId, s.id);
    const longer = await h.http('PATCH', `/schedules/${s.id}`, manager(tenantId), { durationMinutes: 60, sitterId: other.data.personId });
    assert.equal(longer.status, 200, JSON.stringify(longer.body));
    const after = await visitsOf(tenantId, s.id);
    assert.deepEqual(after.map((r) => r.id), before.map((r) => r.id), 'same occurrences, same visits');
    assert.ok(after.every((r) => r.ends_at.getTime() - r.starts_at.getTime() === 3_600_000 && r.sitter_id === other.data.personId));

    await h.http('POST', `/visits/${after[1]!.id}/complete`, manager(tenantId), { early: true });
    const moved = await h.http('PATCH', `/schedules/${s.id}`, manager(tenantId), { startTime: '10:30' });
    assert.equal(moved.status, 200);
    const rows = await visitsOf(tenantId, s.id);
    const upcoming = rows.filter((r) => r.status !== 'completed');
    assert.ok(upcoming.every((r) => DateTime.fromJSDate(r.starts_at, { zone: 'Europe/London' }).toFormat('HH:mm') === '10:30'));
    assert.equal(new Set(rows.map((r) => r.occurrence_local.toISOString())).size, rows.length, 'no occurrence twice');
    assert.equal(rows.filter((r) => r.status === 'completed').length, 1, 'the completed visit stays as it was');

    assert.equal((await h.http('PATCH', `/schedules/${s.id}`, manager(tenantId), { rrule: 'FREQ=NEVER' })).status, 400);
    const removed = await h.http('DELETE', `/schedules/${s.id}`, manager(tenantId));
    assert.equal(removed.status, 200);
    assert.equal(removed.body.visitsDeleted, upcoming.length);
    const left = await h.db.$queryRawUnsafe<{ status: string; schedule_id: string | null }[]>('SELECT status, schedule_id FROM visit WHERE tenant_id = $1::uuid', tenantId);
    assert.deepEqual(left, [{ status: 'completed', schedule_id: null }]);
    assert.equal((await h.http('DELETE', `/schedules/${s.id}`, manager(tenantId))).status, 404);
  });

  it('refuses an invalid RRULE, zone or time, an unreasonable COUNT/UNTIL or an inactive sitter with a precise problem, creating nothing', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const gone = h.personCreated(tenantId, 'staff');
    await h.feed(gone, h.lifecycle('user.deactivated', tenantId, gone.data.personId, 'staff'));
    const base = { clientId, sitterId, rrule: 'FREQ=DAILY', timeZone: 'Europe/London', startTime: '09:00', durationMinutes: 30 };
    for (const [change, path] of [
      [{ rrule: 'FREQ=DAILY;BYDAY=FUNDAY' }, 'body.rrule'],
      [{ rrule: 'FREQ=MINUTELY' }, 'body.rrule'],
      [{ rrule: 'FREQ=DAILY;COUNT=99999' }, 'body.rrule'],
      [{ rrule: 'FREQ=DAILY;UNTIL=22220101' }, 'body.rrule'],
      [{ timeZone: 'Europe/Atlantis' }, 'body.timeZone'],
      [{ startTime: '9am' }, 'body.startTime'],
      [{ durationMinutes: 0 }, 'body.durationMinutes'],
    ] as const) {
      const r = await schedule(tenantId, { ...base, ...change });
      assert.equal(r.status, 400, JSON.stringify(change));
      assert.match(String(r.type), /^application\/problem\+json/);
      assert.deepEqual(r.body.errors.map((e: { path: string }) => e.path), [path], JSON.stringify(r.body));
    }
    const inactive = await schedule(tenantId, { ...base, sitterId: gone.data.personId });
    assert.equal(inactive.status, 422);
    assert.deepEqual((await h.http('GET', '/schedules', manager(tenantId))).body.items, []);
    const [n] = await h.db.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM visit WHERE tenant_id = $1::uuid', tenantId);
    assert.equal(n?.n, 0);
    assert.equal((await h.http('POST', '/schedules', { tenantId, personId: sitterId, roles: ['staff'] }, base)).status, 403);
  });

  it('issue 15: a schedule that cannot be extended is reported and rolled back alone; the others are extended', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const good = (await schedule(tenantId, { clientId, sitterId, rrule: 'FREQ=DAILY', timeZone: 'Europe/London', startTime: '09:00', durationMinutes: 30 })).body;
    const bad = (await schedule(tenantId, { clientId, sitterId, rrule: 'FREQ=DAILY', timeZone: 'Europe/London', startTime: '18:00', durationMinutes: 30 })).body;
    // A zone nothing knows any more (stored before zones were checked, or dropped from tzdata).
    await h.db.$executeRawUnsafe("UPDATE schedule SET time_zone = 'Mars/Olympus_Mons', generated_until = NULL WHERE id = ANY($1::uuid[])", [bad.id]);
    await h.db.$executeRawUnsafe('UPDATE schedule SET generated_until = NULL WHERE id = $1::uuid', good.id);
    const failures: Record<string, unknown>[] = [];
    const later = new Date(Date.now() + 3 * 24 * 3_600_000);
    const created = await extendScheduleHorizons(h.db, later, undefined, (item) => void failures.push(item));
    assert.ok(created > 0, 'the good schedule got its new days');
    assert.deepEqual(failures.filter((f) => f.scheduleId === bad.id), [{ scheduleId: bad.id, tenantId }]);
    const [row] = await h.db.$queryRawUnsafe<{ generated_until: Date | null }[]>('SELECT generated_until FROM schedule WHERE id = $1::uuid', bad.id);
    assert.equal(row?.generated_until, null, 'the failed one is left to the next run');
  });

  it('lists schedules page by page; a sitter sees only schedules they hold, a client only their own', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const other = await h.clientAndSitter(tenantId);
    const ids: string[] = [];
    for (const time of ['08:00', '12:00', '16:00']) {
      ids.push((await schedule(tenantId, { clientId, sitterId, rrule: 'FREQ=WEEKLY', timeZone: 'Europe/London', startTime: time, durationMinutes: 30 })).body.id);
    }
    await schedule(tenantId, { clientId: other.clientId, sitterId: other.sitterId, rrule: 'FREQ=WEEKLY', timeZone: 'Europe/London', startTime: '10:00', durationMinutes: 30 });
    const first = await h.http('GET', `/schedules?clientId=${clientId}&limit=2`, manager(tenantId));
    assert.equal(first.body.items.length, 2);
    const second = await h.http('GET', `/schedules?clientId=${clientId}&limit=2&cursor=${first.body.nextCursor}`, manager(tenantId));
    assert.deepEqual([...first.body.items, ...second.body.items].map((s: { id: string }) => s.id), ids);
    assert.equal(second.body.nextCursor, null);
    const bySitter = await h.http('GET', '/schedules', { tenantId, personId: sitterId, roles: ['staff'] });
    assert.deepEqual(bySitter.body.items.map((s: { id: string }) => s.id), ids);
    const byClient = await h.http('GET', '/schedules', { tenantId, personId: other.clientId, roles: ['client'] });
    assert.equal(byClient.body.items.length, 1);
  });

  it('S1: a default sitter per client is shown on the client and given to new visits and schedules unless told otherwise', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const foreign = await h.clientAndSitter(randomUUID());
    const set = await h.http('PUT', `/clients/${clientId}/default-sitter`, manager(tenantId), { sitterId });
    assert.equal(set.status, 200);
    assert.deepEqual([set.body.id, set.body.defaultSitterId, set.body.firstName], [clientId, sitterId, 'Cleo']);
    assert.equal((await h.http('GET', `/clients/${clientId}`, { tenantId, personId: clientId, roles: ['client'] })).body.defaultSitterId, sitterId);

    const withDefault = await h.http('POST', '/visits', manager(tenantId), { clientId, startsAt: hoursFromNow(5), endsAt: hoursFromNow(6) });
    assert.equal(withDefault.body.sitterId, sitterId);
    const explicitlyNone = await h.http('POST', '/visits', manager(tenantId), { clientId, sitterId: null, startsAt: hoursFromNow(5), endsAt: hoursFromNow(6) });
    assert.equal(explicitlyNone.body.sitterId, null);
    const s = await schedule(tenantId, { clientId, rrule: 'FREQ=WEEKLY', timeZone: 'UTC', startTime: '12:00', durationMinutes: 30 });
    assert.equal(s.body.sitterId, sitterId);

    assert.equal((await h.http('PUT', `/clients/${clientId}/default-sitter`, manager(tenantId), { sitterId: foreign.sitterId })).status, 404, 'another tenant\'s sitter reads as none');
    assert.equal((await h.http('PUT', `/clients/${foreign.clientId}/default-sitter`, manager(tenantId), { sitterId })).status, 404);
    assert.equal((await h.http('PUT', `/clients/${clientId}/default-sitter`, { tenantId, personId: sitterId, roles: ['staff'] }, { sitterId })).status, 403);
    assert.equal((await h.http('GET', `/clients/${foreign.clientId}`, manager(tenantId))).status, 404);
    const stranger = await h.clientAndSitter(tenantId);
    assert.equal((await h.http('GET', `/clients/${clientId}`, { tenantId, personId: stranger.sitterId, roles: ['staff'] })).status, 404);
    assert.equal((await h.http('GET', `/clients/${clientId}`, { tenantId, personId: sitterId, roles: ['staff'] })).status, 200, 'the default sitter sees the client');
    const cleared = await h.http('PUT', `/clients/${clientId}/default-sitter`, manager(tenantId), { sitterId: null });
    assert.equal(cleared.body.defaultSitterId, null);
  });
});
