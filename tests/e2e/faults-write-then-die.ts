// Child process of the fault runs: a directory instance that commits deactivations (the person's
// new status, the operation and `user.deactivated` in its outbox, one transaction each) with no
// outbox relay running, prints the operation ids, then dies by SIGKILL before publishing
// anything: the relay died between commit and publish. The surviving directory must publish them.
import { openDatabase } from '@roster/platform/db/database';
import { directoryService } from '../../services/directory/src/service.js';
import { changeLifecycle } from '../../services/directory/src/people/commands.js';

const db = await openDatabase({ url: process.env.DATABASE_URL!, migrationFolders: directoryService.migrationFolders, migrate: false }, directoryService.makeClient);
const operationIds: string[] = [];
for (const personId of process.env.PEOPLE!.split(',')) {
  const { operationId } = await changeLifecycle(db.client, process.env.TENANT_ID!, personId, { command: { type: 'deactivate' }, reason: 'left (writer died)' }, {
    kind: 'operator', personId: null, impersonatorId: null,
  });
  operationIds.push(operationId);
}
process.stdout.write(`${JSON.stringify(operationIds)}\n`, () => process.kill(process.pid, 'SIGKILL'));
