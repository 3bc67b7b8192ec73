import { DateTime, IANAZone } from 'luxon';
import rrulePackage from 'rrule';

const { RRule } = rrulePackage;
type Rule = InstanceType<typeof RRule>;

/**
 * Recurring schedules (S1, B7). The RRULE runs over *floating* wall-clock times (the `rrule`
 * package with no TZID: its "UTC" dates are read as local date-times), and every occurrence is
 * turned into an instant in the schedule's IANA zone with luxon, following RFC 5545 §3.3.5:
 * - a wall-clock time that happens twice (fall back) means its FIRST occurrence: a 01:30 visit
 *   on the night New York falls back happens once, at 01:30 EDT;
 * - a wall-clock time that does not exist (spring forward) is read with the offset in force
 *   BEFORE the gap, which moves it forward by the gap: 02:30 in New York on the spring-forward
 *   night is 07:30Z = 03:30 EDT; 01:30 in London is 01:30Z = 02:30 BST.
 * A 09:00 daily visit therefore stays at 09:00 local time on both sides of a change.
 */

/** Why a schedule definition is refused; `field` names the body field for the problem's errors. */
export class InvalidRecurrence extends Error {
  constructor(readonly field: 'rrule' | 'timeZone' | 'startTime' | 'startDate', message: string) {
    super(message);
  }
}

export interface RecurrenceInput {
  rrule: string;
  timeZone: string;
  /** Wall-clock start, `HH:MM`. */
  startTime: string;
  /** First day the rule may produce, `YYYY-MM-DD` in the zone. */
  startDate: string;
  durationMinutes: number;
}

export interface Recurrence extends RecurrenceInput {
  rule: Rule;
}

export interface Occurrence {
  /** The local date-time in the schedule's zone, `YYYY-MM-DDTHH:MM:00` (one visit per value). */
  local: string;
  startsAt: Date;
  endsAt: Date;
}

/** Beyond reason: a schedule is for visits, not for a calendar of the next century. */
export const MAX_COUNT = 1000;
export const MAX_UNTIL_YEARS = 5;

const LIST = (item: string) => new RegExp(`^${item}(,${item})*$`);
const PARTS: Record<string, RegExp> = {
  FREQ: /^(DAILY|WEEKLY|MONTHLY|YEARLY)$/,
  INTERVAL: /^[1-9][0-9]?$/,
  COUNT: /^[1-9][0-9]{0,5}$/,
  UNTIL: /^\d{8}(T\d{6}Z?)?$/,
  BYDAY: LIST('[+-]?([1-9]|[1-4][0-9]|5[0-3])?(MO|TU|WE|TH|FR|SA|SU)'),
  BYMONTHDAY: LIST('-?([1-9]|[12][0-9]|3[01])'),
  BYMONTH: LIST('([1-9]|1[0-2])'),
  BYYEARDAY: LIST('-?([1-9][0-9]{0,2})'),
  BYWEEKNO: LIST('-?([1-9]|[1-4][0-9]|5[0-3])'),
  BYSETPOS: LIST('-?([1-9][0-9]{0,2})'),
  WKST: /^(MO|TU|WE|TH|FR|SA|SU)$/,
};
const WHY_NOT: Record<string, string> = {
  BYHOUR: 'the time of day comes from startTime',
  BYMINUTE: 'the time of day comes from startTime',
  BYSECOND: 'the time of day comes from startTime',
  DTSTART: 'the first day comes from startDate',
  TZID: 'the zone comes from timeZone',
};

const floating = (year: number, month: number, day: number, hour = 0, minute = 0) => new Date(Date.UTC(year, month - 1, day, hour, minute));

/** Validates a schedule definition and builds its rule; throws InvalidRecurrence naming the field. */
export function parseRecurrence(input: RecurrenceInput): Recurrence {
  if (!IANAZone.isValidZone(input.timeZone) || !input.timeZone.includes('/') && input.timeZone !== 'UTC') {
    throw new InvalidRecurrence('timeZone', `"${input.timeZone}" is not an IANA time zone such as Europe/London`);
  }
  const time = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(input.startTime);
  if (!time) throw new InvalidRecurrence('startTime', 'startTime is a wall-clock time HH:MM (00:00–23:59)');
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.startDate);
  const day = date ? DateTime.fromObject({ year: +date[1]!, month: +date[2]!, day: +date[3]! }, { zone: 'UTC' }) : null;
  if (!day?.isValid) throw new InvalidRecurrence('startDate', 'startDate is a calendar date YYYY-MM-DD');

  const text = input.rrule.trim().replace(/^RRULE:/i, '');
  const seen = new Set<string>();
  for (const part of text.split(';')) {
    const [key, value, extra] = part.split('=');
    const name = (key ?? '').toUpperCase();
    if (WHY_NOT[name]) throw new InvalidRecurrence('rrule', `${name} is not allowed in the rule: ${WHY_NOT[name]}`);
    const pattern = PARTS[name];
    if (!pattern || value === undefined || extra !== undefined) throw new InvalidRecurrence('rrule', `"${part}" is not a supported RRULE part (${Object.keys(PARTS).join(', ')})`);
    if (!pattern.test(value.toUpperCase())) {
      const hint = name === 'FREQ' ? ' (DAILY, WEEKLY, MONTHLY or YEARLY: visits come at most daily)' : '';
      throw new InvalidRecurrence('rrule', `${name}=${value} is not valid${hint}`);
    }
    if (seen.has(name)) throw new InvalidRecurrence('rrule', `${name} appears twice`);
    seen.add(name);
  }
  if (!seen.has('FREQ')) throw new InvalidRecurrence('rrule', 'FREQ is required: DAILY, WEEKLY, MONTHLY or YEARLY');
  if (seen.has('COUNT') && seen.has('UNTIL')) throw new InvalidRecurrence('rrule', 'COUNT and UNTIL cannot both be given');

  const dtstart = floating(day.year, day.month, day.day, +time[1]!, +time[2]!);
  let options;
  try {
    options = RRule.parseString(text.toUpperCase());
  } catch (error) {
    throw new InvalidRecurrence('rrule', `the rule does not parse: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (options.count != null && options.count > MAX_COUNT) {
    throw new InvalidRecurrence('rrule', `COUNT=${options.count} is beyond reason (at most ${MAX_COUNT} visits per schedule)`);
  }
  if (options.until) {
    // UNTIL is read as a floating local date(-time), like the occurrences.
    const limit = floating(day.year + MAX_UNTIL_YEARS, day.month, day.day, 23, 59);
    if (options.until > limit) throw new InvalidRecurrence('rrule', `UNTIL is beyond reason (at most ${MAX_UNTIL_YEARS} years after startDate)`);
  }
  const rule = new RRule({ ...options, dtstart, byhour: [+time[1]!], byminute: [+time[2]!], bysecond: [0] });
  if (!rule.after(dtstart, true)) throw new InvalidRecurrence('rrule', 'the rule has no occurrence on or after startDate');
  return { ...input, rrule: text.toUpperCase(), rule };
}

/**
 * The instant a wall-clock time in `zone` denotes (RFC 5545 §3.3.5): of the offsets in force half
 * a day before and after, the earliest that maps back to the same wall clock (first occurrence
 * on a fall-back night); when none does (a spring-forward gap) the offset before the gap.
 */
export function wallClockToInstant(local: Date, zone: string): Date {
  const tz = IANAZone.create(zone);
  const asUtc = local.getTime();
  const halfDay = 12 * 3_600_000;
  const before = tz.offset(asUtc - halfDay);
  const after = tz.offset(asUtc + halfDay);
  const valid = [before, after].map((o) => asUtc - o * 60_000).filter((t) => tz.offset(t) * 60_000 === asUtc - t);
  return new Date(valid.length > 0 ? Math.min(...valid) : asUtc - before * 60_000);
}

const localKey = (d: Date) => d.toISOString().slice(0, 19);

/** Occurrences whose start instant is in [from, to), in order. */
export function occurrencesBetween(r: Recurrence, from: Date, to: Date): Occurrence[] {
  if (to <= from) return [];
  // The rule runs on floating time: widen the window by a day each side to cover any offset, then filter by instant.
  const day = 86_400_000;
  const floatingFrom = new Date(from.getTime() - 2 * day);
  const floatingTo = new Date(to.getTime() + 2 * day);
  const out: Occurrence[] = [];
  for (const local of r.rule.between(floatingFrom, floatingTo, true)) {
    const startsAt = wallClockToInstant(local, r.timeZone);
    if (startsAt < from || startsAt >= to) continue;
    out.push({ local: localKey(local), startsAt, endsAt: new Date(startsAt.getTime() + r.durationMinutes * 60_000) });
  }
  return out;
}

/** Today in `zone`, `YYYY-MM-DD`. */
export const todayIn = (zone: string, now = new Date()): string => DateTime.fromJSDate(now, { zone }).toISODate()!;
