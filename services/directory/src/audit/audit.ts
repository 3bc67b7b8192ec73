import { randomUUID } from 'node:crypto';
import type { Actor } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { Writes } from '@roster/platform/db/together';

/** One line of the audit trail (P9): who (actor, with the impersonator when acting as someone, B5) did what to whom. */
export interface AuditRecord {
  tenantId: string;
  actor: Actor;
  /** What happened, e.g. `person.created`, `access.granted`, `person.deactivated`, `visits.unassigned`. */
  action: string;
  /** The person (or role key, account id ...) it happened to. */
  subjectId?: string | null;
  /** The accounts whose trail shows the entry (the person's memberships, the account changed ...). */
  accountIds?: readonly string[];
  /** The operation (cascade) the entry belongs to: effects of a cascade link to their cause. */
  operationId?: string | null;
  detail?: Record<string, unknown>;
  /** When it happened, if not now (an event consumed from another service: the event's time). */
  at?: Date;
}

/**
 * Writes audit entries in the caller's transaction, so that an entry exists if and only if the
 * change it describes committed. Exported for every directory feature (invitations and SCIM too).
 */
export async function recordAudit(tx: SqlTx, ...records: AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  const writes = new Writes();
  recordAuditWith(writes, records);
  await writes.run(tx);
}

/** `recordAudit` as a write of a command's one statement (`Writes`, as `audited`). */
export function recordAuditWith(writes: Writes, records: readonly AuditRecord[]): void {
  if (records.length === 0) return;
  // One statement however many entries (a bulk access change writes one per membership).
  writes.add('audited', `INSERT INTO audit_entry (id, tenant_id, at, actor_kind, actor_person_id, impersonator_id, action, subject_id, account_ids, operation_id, detail)
     SELECT id, tenant_id, COALESCE(at, now()), actor_kind, actor_person_id, impersonator_id, action, subject_id,
            COALESCE((SELECT array_agg(x::uuid) FROM jsonb_array_elements_text(account_ids) AS x), '{}'), operation_id, detail
     FROM jsonb_to_recordset(${writes.param(JSON.stringify(records.map((r) => ({
      id: randomUUID(), tenant_id: r.tenantId, at: r.at?.toISOString() ?? null, actor_kind: r.actor.kind, actor_person_id: r.actor.personId,
      impersonator_id: r.actor.impersonatorId, action: r.action, subject_id: r.subjectId ?? null,
      account_ids: [...new Set(r.accountIds ?? [])], operation_id: r.operationId ?? null, detail: r.detail ?? {},
    }))))}::jsonb) AS r(id uuid, tenant_id uuid, at timestamptz, actor_kind text, actor_person_id text, impersonator_id text,
          action text, subject_id text, account_ids jsonb, operation_id uuid, detail jsonb)
     RETURNING 1`);
}

/** The actor of a cascade's effects (P9): the system, linked to the causing operation by `operationId`. */
export const SYSTEM_ACTOR: Actor = { kind: 'system', personId: null, impersonatorId: null };
