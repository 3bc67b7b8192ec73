import type { SqlTx } from '@roster/platform/db/database';
import { badRequest } from '@roster/platform/http/problem';

// Zone name → the database's spelling of it, or null when the database does not know it. The list
// only changes with the server's tzdata, so each process asks once per name.
const known = new Map<string, Promise<string | null>>();

/**
 * A time zone both Node (luxon, Intl) and Postgres know (issue 15): Node's ICU accepts names the
 * database does not (`US/Pacific-New`), and a visit stored with one broke every `AT TIME ZONE`
 * over it — the daily digests of its zone included. Returns the database's spelling
 * (`europe/london` → `Europe/London`), so one zone is stored one way; refuses others with a 400.
 */
export async function requireKnownTimeZone(db: SqlTx, zone: string, field = 'timeZone'): Promise<string> {
  let lookup = known.get(zone);
  if (!lookup) {
    lookup = db.$queryRawUnsafe<{ name: string }[]>(
      'SELECT name FROM pg_timezone_names WHERE lower(name) = lower($1) ORDER BY name = $1 DESC LIMIT 1', zone,
    ).then((rows) => rows[0]?.name ?? null);
    known.set(zone, lookup);
    lookup.catch(() => known.delete(zone)); // a failed query is asked again next time
  }
  const name = await lookup;
  if (!name || !isIntlZone(name)) {
    throw badRequest(`${field}: "${zone}" is not a time zone this service can schedule in: use an IANA name such as Europe/London`);
  }
  return name;
}

const isIntlZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};
