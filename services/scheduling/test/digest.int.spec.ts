import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { EventOf } from '@roster/contracts';
import { publishDailyDigests, publishTodaysDigests } from '../src/digest/daily-digest.js';
import { manager, SchedulingHarness } from './support/harness.js';

// N2: one schedule.digest per active sitter per day, the day local to the visits' zone.
describe('daily schedule digest (N2; Postgres)', () => {
  const h = new SchedulingHarness();
  beforeAll(() => h.start('roster_digest'));
  afterAll(() => h.stop());

  const digests = (sitterId: string) => h.published.filter((e) => e.type === 'schedule.digest' && e.subject === sitterId) as EventOf<'schedule.digest'>[];
  const visit = async (tenantId: string, clientId: string, sitterId: string | null, startsAt: string, endsAt: string, timeZone: string, service?: string) => {
    const r = await h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt, endsAt, timeZone, ...(service ? { service } : {}) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };

  it('publishes each active sitter\'s visits of the local day once, however often and on however many replicas the job runs', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const zone = 'America/New_York';
    // 2027-01-15 in New York: 08:00 EST = 13:00Z, and 21:00 EST = 02:00Z on the 16th (still the 15th locally).
    const morning = await visit(tenantId, clientId, sitterId, '2027-01-15T13:00:00Z', '2027-01-15T14:00:00Z', zone, 'Walk');
    const evening = await visit(tenantId, clientId, sitterId, '2027-01-16T02:00:00Z', '2027-01-16T02:30:00Z', zone);
    await visit(tenantId, clientId, sitterId, '2027-01-16T13:00:00Z', '2027-01-16T14:00:00Z', zone); // the 16th
    await visit(tenantId, clientId, null, '2027-01-15T15:00:00Z', '2027-01-15T16:00:00Z', zone); // nobody's
    const leaver = h.personCreated(tenantId, 'staff');
    await h.feed(leaver);
    await visit(tenantId, clientId, leaver.data.personId, '2027-01-15T15:00:00Z', '2027-01-15T16:00:00Z', zone);
    // An inactive sitter still holding a visit that day (past visits keep their sitter) gets no digest.
    await h.feed(h.lifecycle('user.deactivated', tenantId, leaver.data.personId, 'staff'));
    await h.db.$executeRawUnsafe(
      `INSERT INTO visit_assignment (visit_id, tenant_id, sitter_id, starts_at)
       SELECT id, tenant_id, $1::uuid, starts_at FROM visit WHERE tenant_id = $2::uuid AND starts_at = $3::timestamptz ON CONFLICT DO NOTHING`,
      leaver.data.personId, tenantId, new Date('2027-01-15T15:00:00Z'),
    );

    const runs = await Promise.all([publishDailyDigests(h.service.ctx, '2027-01-15'), publishDailyDigests(h.service.ctx, '2027-01-15')]);
    await h.settled();
    assert.equal(runs.reduce((a, b) => a + b, 0) >= 1, true);
    assert.equal(await publishDailyDigests(h.service.ctx, '2027-01-15'), 0, 'a third run finds every digest sent');
    await h.settled();

    const mine = digests(sitterId);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.tenantid, tenantId);
    assert.deepEqual(mine[0]!.data, {
      sitterId, date: '2027-01-15', timeZone: zone,
      visits: [
        { visitId: morning, clientId, clientName: 'Cleo Tester', startsAt: '2027-01-15T13:00:00.000Z', endsAt: '2027-01-15T14:00:00.000Z', service: 'Walk' },
        { visitId: evening, clientId, clientName: 'Cleo Tester', startsAt: '2027-01-16T02:00:00.000Z', endsAt: '2027-01-16T02:30:00.000Z', service: null },
      ],
    });
    assert.equal(digests(leaver.data.personId).length, 0, 'no digest for an inactive sitter');

    assert.equal(await publishDailyDigests(h.service.ctx, '2027-01-16'), 1, 'the next day is its own digest');
    await h.settled();
    assert.deepEqual(digests(sitterId).map((d) => [d.data.date, d.data.visits.length]), [['2027-01-15', 2], ['2027-01-16', 1]]);
  });

  it('refuses a date that is not YYYY-MM-DD', async () => {
    await assert.rejects(publishDailyDigests(h.service.ctx, '15/01/2027'), /YYYY-MM-DD/);
  });

  it('the periodic run publishes, for each zone, the day that has begun there', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    // At 2027-03-02 22:00Z it is already the 3rd in Tokyo (07:00) and still the 2nd in New York (17:00).
    await visit(tenantId, clientId, sitterId, '2027-03-03T01:00:00Z', '2027-03-03T02:00:00Z', 'Asia/Tokyo'); // 3rd, 10:00 in Tokyo
    await visit(tenantId, clientId, sitterId, '2027-03-02T23:00:00Z', '2027-03-02T23:30:00Z', 'America/New_York'); // 2nd, 18:00 in New York
    await publishTodaysDigests(h.service.ctx, new Date('2027-03-02T22:00:00Z'));
    await h.settled();
    const sent = digests(sitterId).map((d) => [d.data.timeZone, d.data.date, d.data.visits.length]).sort();
    assert.deepEqual(sent, [['America/New_York', '2027-03-02', 1], ['Asia/Tokyo', '2027-03-03', 1]]);
  });

  it('issue 15: a zone the database does not know is refused at entry, stored in its one spelling; a zone that fails does not stop the others', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    // Node's ICU knows US/Pacific-New, Postgres does not: refused with a 400, nothing stored.
    const refused = await h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt: '2027-04-01T10:00:00Z', endsAt: '2027-04-01T11:00:00Z', timeZone: 'US/Pacific-New' });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.detail, /US\/Pacific-New/);
    const id = await visit(tenantId, clientId, sitterId, '2027-04-01T10:00:00Z', '2027-04-01T11:00:00Z', 'europe/london');
    assert.equal((await h.http('GET', `/visits/${id}`, manager(tenantId))).body.timeZone, 'Europe/London');

    // A row stored before this check (written here directly) no longer stops the digests of other zones.
    const other = await h.clientAndSitter(tenantId);
    const bad = await visit(tenantId, other.clientId, other.sitterId, '2027-04-02T09:00:00Z', '2027-04-02T10:00:00Z', 'UTC');
    await h.db.$executeRawUnsafe("UPDATE visit SET time_zone = 'US/Pacific-New' WHERE id = $1::uuid", bad);
    // Zones go in name order: Asia/Tokyo, then the broken one, then UTC.
    await visit(tenantId, clientId, sitterId, '2027-04-02T09:00:00Z', '2027-04-02T10:00:00Z', 'Asia/Tokyo');
    await visit(tenantId, clientId, sitterId, '2027-04-02T11:00:00Z', '2027-04-02T12:00:00Z', 'UTC');
    await publishTodaysDigests(h.service.ctx, new Date('2027-04-02T06:00:00Z'));
    await h.settled();
    assert.deepEqual(digests(sitterId).filter((d) => d.data.date === '2027-04-02').map((d) => d.data.timeZone).sort(), ['Asia/Tokyo', 'UTC']);
  });
});
