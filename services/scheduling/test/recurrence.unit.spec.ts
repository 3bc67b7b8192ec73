import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { InvalidRecurrence, occurrencesBetween, parseRecurrence, wallClockToInstant } from '../src/schedules/recurrence.js';

// B7: recurring schedules over wall-clock times in an IANA zone, correct across DST changes.
const daily = (timeZone: string, startTime: string, startDate: string) =>
  parseRecurrence({ rrule: 'FREQ=DAILY', timeZone, startTime, startDate, durationMinutes: 60 });
const local = (d: Date, zone: string) => DateTime.fromJSDate(d, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ');
const week = (zone: string, time: string, firstDay: string) => {
  const r = daily(zone, time, firstDay);
  const from = DateTime.fromISO(firstDay, { zone }).toJSDate();
  return occurrencesBetween(r, from, new Date(from.getTime() + 7 * 86_400_000));
};

describe('recurrence across DST (B7)', () => {
  // Spring forward: London 2027-03-28 01:00 GMT → 02:00 BST; New York 2027-03-14 02:00 EST → 03:00 EDT.
  // Fall back: London 2027-10-31 02:00 BST → 01:00 GMT; New York 2027-11-07 02:00 EDT → 01:00 EST.
  for (const [zone, springWeek, fallWeek] of [
    ['Europe/London', '2027-03-25', '2027-10-28'],
    ['America/New_York', '2027-03-11', '2027-11-04'],
  ] as const) {
    it(`a 09:00 daily visit stays at 09:00 local time through the spring-forward and the fall-back week in ${zone}`, () => {
      for (const first of [springWeek, fallWeek]) {
        const visits = week(zone, '09:00', first);
        assert.equal(visits.length, 7);
        for (const v of visits) assert.equal(DateTime.fromJSDate(v.startsAt, { zone }).toFormat('HH:mm'), '09:00', local(v.startsAt, zone));
        const offsets = new Set(visits.map((v) => DateTime.fromJSDate(v.startsAt, { zone }).offset));
        assert.equal(offsets.size, 2, 'the UTC instant moves by an hour: the week crosses a change');
        assert.ok(visits.every((v) => v.endsAt.getTime() - v.startsAt.getTime() === 3_600_000));
      }
    });
  }

  it('a 01:30 visit on the fall-back night happens once, at the first 01:30 (RFC 5545), in both zones', () => {
    for (const [zone, first, night, expected] of [
      ['America/New_York', '2027-11-04', '2027-11-07', '2027-11-07T05:30:00.000Z'], // 01:30 EDT
      ['Europe/London', '2027-10-28', '2027-10-31', '2027-10-31T00:30:00.000Z'], // 01:30 BST
    ] as const) {
      const visits = week(zone, '01:30', first);
      const onTheNight = visits.filter((v) => v.local.startsWith(night));
      assert.equal(onTheNight.length, 1, `${zone}: one visit that night`);
      assert.equal(onTheNight[0]!.startsAt.toISOString(), expected);
      assert.equal(new Set(visits.map((v) => v.local)).size, visits.length);
    }
  });

  it('a 02:30 visit on the spring-forward night (a time that does not exist) moves forward by the gap: 03:30 EDT in New York', () => {
    const visits = week('America/New_York', '02:30', '2027-03-11');
    const night = visits.find((v) => v.local === '2027-03-14T02:30:00')!;
    assert.equal(night.startsAt.toISOString(), '2027-03-14T07:30:00.000Z');
    assert.equal(local(night.startsAt, 'America/New_York'), '2027-03-14 03:30 -04:00');
    const next = visits.find((v) => v.local === '2027-03-15T02:30:00')!;
    assert.equal(local(next.startsAt, 'America/New_York'), '2027-03-15 02:30 -04:00', 'the next day is back at 02:30');
  });

  it('a 01:30 visit on London\'s spring-forward night moves to 02:30 BST; a 02:30 one there exists and stays', () => {
    const at = (t: string) => wallClockToInstant(new Date(`2027-03-28T${t}:00Z`), 'Europe/London');
    assert.equal(local(at('01:30'), 'Europe/London'), '2027-03-28 02:30 +01:00');
    assert.equal(local(at('02:30'), 'Europe/London'), '2027-03-28 02:30 +01:00');
    assert.equal(local(at('00:30'), 'Europe/London'), '2027-03-28 00:30 +00:00');
  });

  it('weekly rules follow the zone\'s calendar, not UTC\'s (a Monday 23:30 in New York is a Tuesday in UTC)', () => {
    const r = parseRecurrence({ rrule: 'FREQ=WEEKLY;BYDAY=MO', timeZone: 'America/New_York', startTime: '23:30', startDate: '2027-01-01', durationMinutes: 30 });
    const visits = occurrencesBetween(r, new Date('2027-01-01T00:00:00Z'), new Date('2027-01-31T00:00:00Z'));
    assert.deepEqual(visits.map((v) => DateTime.fromJSDate(v.startsAt, { zone: 'America/New_York' }).toFormat('ccc HH:mm')), Array(4).fill('Mon 23:30'));
    assert.ok(visits.every((v) => v.startsAt.getUTCDay() === 2));
  });

  it('COUNT and UNTIL bound the rule; an unbounded rule is only ever read up to the asked window', () => {
    const counted = parseRecurrence({ rrule: 'FREQ=DAILY;COUNT=3', timeZone: 'Europe/London', startTime: '10:00', startDate: '2027-05-01', durationMinutes: 30 });
    assert.equal(occurrencesBetween(counted, new Date('2027-04-01'), new Date('2027-12-01')).length, 3);
    const unbounded = daily('Europe/London', '10:00', '2027-05-01');
    assert.equal(occurrencesBetween(unbounded, new Date('2027-05-01T00:00:00Z'), new Date('2027-05-11T00:00:00Z')).length, 10);
  });

  it('refuses what is not a sensible schedule, naming the field', () => {
    const base = { rrule: 'FREQ=DAILY', timeZone: 'Europe/London', startTime: '09:00', startDate: '2027-01-01', durationMinutes: 30 };
    const cases: [Partial<typeof base>, string, RegExp][] = [
      [{ rrule: 'FREQ=SOMETIMES' }, 'rrule', /FREQ=SOMETIMES is not valid/],
      [{ rrule: 'FREQ=HOURLY' }, 'rrule', /at most daily/],
      [{ rrule: 'FREQ=DAILY;COUNT=100000' }, 'rrule', /beyond reason/],
      [{ rrule: 'FREQ=DAILY;UNTIL=21000101' }, 'rrule', /beyond reason/],
      [{ rrule: 'FREQ=DAILY;BYHOUR=3' }, 'rrule', /startTime/],
      [{ rrule: 'COUNT=3' }, 'rrule', /FREQ is required/],
      [{ rrule: 'FREQ=DAILY;UNTIL=20200101' }, 'rrule', /no occurrence/],
      [{ rrule: 'FREQ=WEEKLY;BYDAY=XX' }, 'rrule', /BYDAY=XX is not valid/],
      [{ rrule: 'garbage' }, 'rrule', /not a supported RRULE part/],
      [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone', /IANA/],
      [{ timeZone: 'EST' }, 'timeZone', /IANA/],
      [{ startTime: '25:00' }, 'startTime', /HH:MM/],
      [{ startDate: '2027-02-30' }, 'startDate', /YYYY-MM-DD/],
    ];
    for (const [change, field, message] of cases) {
      assert.throws(() => parseRecurrence({ ...base, ...change }), (e: unknown) => e instanceof InvalidRecurrence && e.field === field && message.test(e.message), JSON.stringify(change));
    }
  });
});
