import type { Principal } from '@roster/platform/auth/claims';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import { notFound } from '@roster/platform/errors';
import { requireAssignableSitter } from '../people/eligibility.js';
import { clientScopeCondition, visitScopeOf } from '../visits/scope.js';

interface ClientRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  status: string;
  account_id: string | null;
  default_sitter_id: string | null;
  assignee_id: string | null;
}

const clientDto = (c: ClientRow) => ({
  id: c.id, firstName: c.first_name, lastName: c.last_name, status: c.status, accountId: c.account_id,
  defaultSitterId: c.default_sitter_id, assigneeId: c.assignee_id,
});

const CLIENT_COLUMNS = 'c.id, c.first_name, c.last_name, c.status, c.account_id, c.default_sitter_id, c.assignee_id';

/** GET /clients/{id}: what scheduling knows of a client the caller may see, with its default sitter (S1). */
export async function findClient(db: SqlTx, me: Principal, id: string, lock = false) {
  const params: unknown[] = [me.tenantId, id];
  const [row] = await db.$queryRawUnsafe<ClientRow[]>(
    `SELECT ${CLIENT_COLUMNS} FROM person_projection c
     WHERE c.tenant_id = $1::uuid AND c.id = $2::uuid AND c.kind = 'client' AND c.status <> 'pending' AND ${clientScopeCondition(await visitScopeOf(db, me), 'c', params)}${lock ? ' FOR UPDATE OF c' : ''}`,
    ...params,
  );
  if (!row) throw notFound(`client ${id}`);
  return clientDto(row);
}

/**
 * PUT /clients/{id}/default-sitter (S1): new visits and schedules of the client get this sitter
 * unless told otherwise; null clears it. Only an active staff member with access can be it.
 */
export async function setDefaultSitter(db: SqlClient, me: Principal, clientId: string, sitterId: string | null) {
  return db.$transaction(async (tx) => {
    // Sitter before client, the order the sitter cascade locks them in (no deadlock with it).
    if (sitterId) await requireAssignableSitter(tx, me.tenantId, sitterId);
    await findClient(tx, me, clientId, true);
    await tx.$executeRawUnsafe(
      'UPDATE person_projection SET default_sitter_id = $3::uuid WHERE id = $1::uuid AND tenant_id = $2::uuid', clientId, me.tenantId, sitterId,
    );
    return findClient(tx, me, clientId);
  });
}
