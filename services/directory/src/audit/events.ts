import type { Actor, RosterEvent } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';

/**
 * P9: another service's event on the trail of the person it concerns, at the event's time, on the
 * accounts the person belongs to; nothing when the person is not this tenant's (another tenant's
 * id, or someone the directory never had). One statement: it runs for a cascade's facts and
 * identity's login events, once per cascade (issue 19).
 */
export async function recordEventOnTrail(
  tx: SqlTx, event: RosterEvent, entry: { subjectId: string; actor: Actor; detail: Record<string, unknown>; operationId?: string | null },
): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO audit_entry (id, tenant_id, at, actor_kind, actor_person_id, impersonator_id, action, subject_id, account_ids, operation_id, detail)
     SELECT gen_random_uuid(), p.tenant_id, $3, $4, $5, $6, $7, p.id::text,
            ARRAY(SELECT m.account_id FROM membership m WHERE m.person_id = p.id ORDER BY m.created_at, m.account_id), $8::uuid, $9::jsonb
       FROM person p WHERE p.id = $1::uuid AND p.tenant_id = $2::uuid`,
    entry.subjectId, event.tenantid, new Date(event.time), entry.actor.kind, entry.actor.personId, entry.actor.impersonatorId, event.type,
    entry.operationId ?? null, JSON.stringify(entry.detail),
  );
}
