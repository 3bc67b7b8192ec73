import type { CascadeEffect, PersonEvent } from '@roster/platform/people-projection';
import type { SqlTx } from '@roster/platform/db/database';

// Visits a cascade may touch: not completed and not yet started. One statement whatever their number.
const UPCOMING = `status <> 'completed' AND starts_at > now()`;

const count = async (tx: SqlTx, sql: string, ...values: unknown[]): Promise<number> => {
  const [row] = await tx.$queryRawUnsafe<{ n: bigint }[]>(sql, ...values);
  return Number(row?.n ?? 0);
};

/**
 * The scheduling column of the cascade table for a deactivated person: a sitter's upcoming visits
 * become unassigned; a client's upcoming visits are deleted; past and completed visits are kept.
 */
export const unassignOrDeleteUpcomingVisits: CascadeEffect = {
  step: 'release_upcoming_visits',
  async apply(tx, event: PersonEvent): Promise<Record<string, number>> {
    const { personId, kind } = event.data;
    if (kind === 'client') {
      const deleted = await tx.$executeRawUnsafe(
        `DELETE FROM visit WHERE tenant_id = $1::uuid AND client_id = $2::uuid AND ${UPCOMING}`, event.tenantid, personId,
      );
      return { visitsDeleted: deleted };
    }
    const unassigned = await tx.$executeRawUnsafe(
      `UPDATE visit SET sitter_id = NULL WHERE tenant_id = $1::uuid AND sitter_id = $2::uuid AND ${UPCOMING}`, event.tenantid, personId,
    );
    return { visitsUnassigned: unassigned };
  },
  async preview(tx, event): Promise<Record<string, number>> {
    const { personId, kind } = event.data;
    const column = kind === 'client' ? 'client_id' : 'sitter_id';
    const n = await count(tx, `SELECT count(*) AS n FROM visit WHERE tenant_id = $1::uuid AND ${column} = $2::uuid AND ${UPCOMING}`, event.tenantid, personId);
    return kind === 'client' ? { visitsDeleted: n } : { visitsUnassigned: n };
  },
};

/** Reactivation gives nothing back: what a deactivation unassigned stays unassigned (said in the step). */
export const keepVisitsAsTheyAre: CascadeEffect = {
  step: 'keep_visits_unchanged',
  apply: async () => ({ visitsChanged: 0 }),
  preview: async () => ({ visitsChanged: 0 }),
};
