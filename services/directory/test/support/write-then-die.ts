// Child process for outbox.int.spec.ts: commits a person (and its user.created in the outbox)
// with no relay running, prints the id, then dies by SIGKILL before anything is published.
import { randomUUID } from 'node:crypto';
import { openDatabase } from '@roster/platform/db/database';
import { directoryService } from '../../src/service.js';
import { createPerson } from '../../src/people/commands.js';

const db = await openDatabase({ url: process.env.DATABASE_URL!, migrationsDir: directoryService.migrationsDir, migrate: false }, directoryService.makeClient);
const person = await createPerson(db.client, process.env.TENANT_ID!, {
  kind: 'staff', firstName: 'Dana', lastName: 'Dies', accountId: randomUUID(),
}, { kind: 'operator', personId: null, impersonatorId: null });
process.stdout.write(`${person.id}\n`, () => process.kill(process.pid, 'SIGKILL'));
