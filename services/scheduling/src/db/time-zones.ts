import type { SqlTx } from '@roster/platform/db/database';
import { badRequest } from '@roster/platform/errors';

// The database's zone names by their lower-case form, read once per process (about 600 names; they
// change only with the server's tzdata). One read, so that no request can grow a cache or make the
// database list its zones again.
let zones: Promise<Map<string, string>> | undefined;

function zonesOf(db: SqlTx): Promise<Map<string, string>> {
  zones ??= db.$queryRawUnsafe<{ name: string }[]>('SELECT name FROM pg_timezone_names')
    .then((rows) => new Map(rows.filter((r) => isIntlZone(r.name)).map((r) => [r.name.toLowerCase(), r.name])));
  zones.catch(() => (zones = undefined)); // a failed read is tried again next time
  return zones;
}

/**
 * A time zone both Node (luxon, Intl) and Postgres know (issue 15): Node's ICU accepts names the
 * database does not (`US/Pacific-New`), and a visit stored with one broke every `AT TIME ZONE`
 * over it — the daily digests of its zone included. Returns the database's spelling
 * (`europe/london` → `Europe/London`), so one zone is stored one way; refuses others with a 400.
 */
export async function requireKnownTimeZone(db: SqlTx, zone: string, field = 'timeZone'): Promise<string> {
  const name = (await zonesOf(db)).get(zone.toLowerCase());
  if (!name) throw badRequest(`${field}: "${zone}" is not a time zone this service can schedule in: use an IANA name such as Europe/London`);
  return name;
}

function isIntlZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
