// Child process for outbox.int.spec.ts: commits a tenant and a person (and their events in the
// outbox) with no relay running, prints the person's id, then dies by SIGKILL before anything is published.
import { openDatabase } from '@roster/platform/db/database';
import { directoryService } from '../../src/service.js';
import { createPerson } from '../../src/people/commands.js';
import { provisionTenant } from '../../src/tenants/provision.js';

const db = await openDatabase({ url: process.env.DATABASE_URL!, migrationFolders: directoryService.migrationFolders, migrate: false }, directoryService.makeClient);
const tenant = await provisionTenant(db.client, { id: process.env.TENANT_ID!, name: 'Dies Ltd', owner: { firstName: 'Olga', lastName: 'Owner', email: 'olga@dies.example' } });
const person = await createPerson(db.client, tenant.tenantId, {
  kind: 'staff', firstName: 'Dana', lastName: 'Dies', accountId: tenant.rootAccountId,
}, { kind: 'operator', personId: null, impersonatorId: null });
process.stdout.write(`${person.id}\n`, () => process.kill(process.pid, 'SIGKILL'));
