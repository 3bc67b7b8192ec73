import type { EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { takeEventsOfKnownPeople } from '../people/awaiting.js';
import { tellOfAwaitedGrant } from './access.js';
import { tellAddressesOnFileOfAwaitedCredentials } from './credentials.js';

type Awaited = EventOf<'access.granted'> | EventOf<'login.granted'> | EventOf<'password.reset'>;

/**
 * The events that waited for their person (`awaitPerson`), done now that the person is known, in
 * one transaction: a grant's e-mail, the notice that credentials went to another address.
 * Returns how many events were taken.
 */
export async function actOnEventsOfKnownPeople(tx: SqlTx): Promise<number> {
  const events = await takeEventsOfKnownPeople<Awaited>(tx);
  const credentials: EventOf<'login.granted' | 'password.reset'>[] = [];
  for (const event of events) {
    if (event.type === 'access.granted') await tellOfAwaitedGrant(tx, event);
    else credentials.push(event);
  }
  await tellAddressesOnFileOfAwaitedCredentials(tx, credentials);
  return events.length;
}
