import { eventFor, stageEvents } from '@roster/platform/outbox';
import { startPeriodicJobs } from '@roster/platform/periodic';
import type { IdentityDb } from '../db/client.js';
import type { IdentityContext } from '../context.js';
import { SYSTEM } from '../sessions/revoke.js';

/** Rows per transaction: a backlog after downtime is recorded in short transactions. */
const BATCH = 500;

/**
 * L7, B5, issue 16 item 4: an impersonation nobody ended expires on its own (its token dies by its
 * `exp`); this records the end and announces `impersonation.ended` (expiry), so the audit trail
 * of both people shows it. Replicas share the work (SKIP LOCKED); each row is ended once.
 */
export async function recordExpiredImpersonations(db: IdentityDb, now = new Date()): Promise<number> {
  let total = 0;
  for (;;) {
    const ended = await db.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<{ id: string; tenantId: string; personId: string; impersonatorId: string; expiresAt: Date }[]>(
        `UPDATE impersonation i SET ended_at = i.expires_at
           FROM (SELECT id FROM impersonation WHERE ended_at IS NULL AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) due
          WHERE i.id = due.id
          RETURNING i.id::text, i.tenant_id::text AS "tenantId", i.person_id::text AS "personId",
                    i.impersonator_id::text AS "impersonatorId", i.expires_at AS "expiresAt"`,
        now, BATCH,
      );
      await stageEvents(tx, rows.map((r) => eventFor('identity', {
        type: 'impersonation.ended', subject: r.personId, tenantId: r.tenantId,
        data: {
          impersonationId: r.id, personId: r.personId, impersonatorId: r.impersonatorId, endedBy: 'expiry',
          endedAt: new Date(r.expiresAt).toISOString(), actor: SYSTEM,
        },
      })));
      return rows.length;
    });
    total += ended;
    if (ended < BATCH) return total;
  }
}

/** Every minute on every replica; an impersonation lasts 15 minutes, so its end shows within a minute of it. */
export function startImpersonationExpiry(ctx: Pick<IdentityContext, 'prisma' | 'logger' | 'relay'> & { metrics?: IdentityContext['metrics'] }, everyMs = 60_000): { stop(): Promise<void> } {
  return startPeriodicJobs([{
    name: 'impersonation expiry', firstAfterMs: 5_000, everyMs,
    run: async () => {
      const ended = await recordExpiredImpersonations(ctx.prisma);
      if (ended > 0) {
        ctx.relay.nudge();
        ctx.logger.info({ ended }, 'expired impersonations recorded');
      }
    },
  }], ctx.logger, ctx.metrics);
}
