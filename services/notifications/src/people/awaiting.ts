import type { SqlTx } from '@roster/platform/db/database';

/** What an event waiting for its person needs of it: the person it is about. */
interface AboutPerson { id: string; tenantid: string; data: { personId: string } }

// The transactions that left an event waiting for its person: after their commit the waiting events are looked at.
const awaitingIn = new WeakSet<object>();
export const eventsLeftAwaitingPersonIn = (tx: object): boolean => awaitingIn.has(tx);

/**
 * An event whose person is not known here yet (N1, N3): on Kafka `user.created` travels in the
 * directory's topic and `access.granted`, `login.granted` in others, so such an event can be
 * handled first. What it can do without the person is done at once; what needs the person (their
 * address, their name) waits in `event_awaiting_person` and is done once they are known
 * (`takeEventsOfKnownPeople`). Retrying the event instead would hold its partition, and with it, on
 * a busy bus, the very topic the person comes in. The caller leaves out any secret (rule 5). A run
 * of such events is one statement.
 */
export async function awaitPerson(tx: SqlTx, ...events: readonly AboutPerson[]): Promise<void> {
  if (events.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO event_awaiting_person (event_id, tenant_id, person_id, event)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::jsonb[]) ON CONFLICT (event_id) DO NOTHING`,
    events.map((e) => e.id), events.map((e) => e.tenantid), events.map((e) => e.data.personId), events.map((e) => JSON.stringify(e)),
  );
  awaitingIn.add(tx);
}

/**
 * The events that waited for a person who is known now, taken in the caller's transaction: the rows
 * go as they are acted on (two replicas cannot both take one). Run after a commit that created people
 * or left events waiting, whichever commits last sees both.
 */
export async function takeEventsOfKnownPeople<E>(tx: SqlTx): Promise<E[]> {
  const rows = await tx.$queryRawUnsafe<{ event: string }[]>(
    `DELETE FROM event_awaiting_person w
      WHERE EXISTS (SELECT 1 FROM person_projection p WHERE p.id = w.person_id AND p.tenant_id = w.tenant_id)
      RETURNING w.event::text AS event`,
  );
  return rows.map((row) => JSON.parse(row.event) as E);
}

/** Whether any event waits for its person (a cheap look before a transaction). */
export async function anyEventAwaitingPerson(db: SqlTx): Promise<boolean> {
  const [row] = await db.$queryRawUnsafe<{ waiting: boolean }[]>('SELECT EXISTS (SELECT 1 FROM event_awaiting_person) AS waiting');
  return row?.waiting ?? false;
}
