import type { SqlTx } from '@roster/platform/db/database';
import { DomainError } from '@roster/platform/errors';

/**
 * Who may be given a visit: an active staff member of the caller's tenant holding access to at
 * least one account (from directory's events, rule 1). The projection row is read FOR SHARE, so a
 * deactivation being applied at the same moment waits for this transaction or is seen by it:
 * no visit is ever assigned to someone whose deactivation already unassigned them.
 */
export async function requireAssignableSitter(tx: SqlTx, tenantId: string, sitterId: string): Promise<void> {
  const [row] = await tx.$queryRawUnsafe<{ kind: string; status: string; has_access: boolean }[]>(
    `SELECT p.kind, p.status,
            EXISTS (SELECT 1 FROM membership m WHERE m.person_id = p.id AND m.tenant_id = p.tenant_id AND m.active) AS has_access
     FROM person_projection p WHERE p.id = $1::uuid AND p.tenant_id = $2::uuid FOR SHARE OF p`,
    sitterId, tenantId,
  );
  const problem = (kind: 'not_found' | 'unprocessable', slug: string, detail: string) =>
    new DomainError(kind, slug, kind === 'not_found' ? 'Sitter not found' : 'Sitter not assignable', detail, { errors: [{ path: 'body.sitterId', message: detail }] });
  // A person of another tenant reads exactly like one that does not exist (or that scheduling has
  // not heard of yet: callers may retry a 404 while directory's events arrive).
  if (!row || row.kind !== 'staff') throw problem('not_found', 'sitter-unknown', `no staff member ${sitterId} in your tenant`);
  if (row.status !== 'active') throw problem('unprocessable', 'sitter-inactive', `staff member ${sitterId} is ${row.status}: only active staff can be given visits`);
  if (!row.has_access) throw problem('unprocessable', 'sitter-without-access', `staff member ${sitterId} has no access to any account of your tenant`);
}

/** A client visits may be created for: known in the tenant and active. */
export async function requireActiveClient(tx: SqlTx, tenantId: string, clientId: string): Promise<void> {
  const [row] = await tx.$queryRawUnsafe<{ kind: string; status: string }[]>(
    `SELECT kind, status FROM person_projection WHERE id = $1::uuid AND tenant_id = $2::uuid FOR SHARE`, clientId, tenantId,
  );
  const problem = (kind: 'not_found' | 'unprocessable', slug: string, detail: string) =>
    new DomainError(kind, slug, kind === 'not_found' ? 'Client not found' : 'Client not schedulable', detail, { errors: [{ path: 'body.clientId', message: detail }] });
  if (!row || row.kind !== 'client' || row.status === 'pending') throw problem('not_found', 'client-unknown', `no client ${clientId} in your tenant`);
  if (row.status !== 'active') throw problem('unprocessable', 'client-inactive', `client ${clientId} is ${row.status}: visits are only created for active clients`);
}

/**
 * The client's default sitter when they can be assigned right now (read FOR SHARE like any
 * sitter), otherwise null: the visit or schedule then starts unassigned rather than failing.
 */
export async function assignableDefaultSitter(tx: SqlTx, tenantId: string, clientId: string): Promise<string | null> {
  const [row] = await tx.$queryRawUnsafe<{ id: string | null }[]>(
    'SELECT default_sitter_id AS id FROM person_projection WHERE id = $1::uuid AND tenant_id = $2::uuid', clientId, tenantId,
  );
  if (!row?.id) return null;
  try {
    await requireAssignableSitter(tx, tenantId, row.id);
    return row.id;
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}
