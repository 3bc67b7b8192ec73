import { randomUUID } from 'node:crypto';
import { expectedStepsFor, isEventType, type EventOf } from '@roster/contracts';
import { claimInbox } from '@roster/platform/inbox';
import type { DirectoryDb } from '../db/client.js';

/**
 * B4: folds a service's `cascade.step.completed` into the operation it belongs to. The operation
 * row is locked so that two steps handled at once by two replicas cannot both miss completion.
 * Steps of cascades that started outside the directory create their operation on first sight.
 */
export async function recordCascadeStep(db: DirectoryDb, event: EventOf<'cascade.step.completed'>): Promise<void> {
  const step = event.data;
  const tenantId = event.tenantid;
  await db.$transaction(async (tx) => {
    if (!(await claimInbox(tx, 'directory', event))) return;
    const expected = isEventType(step.causeType) ? [...expectedStepsFor(step.causeType)] : [];
    await tx.$executeRaw`
      INSERT INTO operation (id, tenant_id, kind, subject_id, dry_run, status, expected)
      VALUES (${step.operationId}::uuid, ${tenantId}::uuid, ${step.causeType}, NULL, ${step.dryRun}, 'pending', ${expected}::text[])
      ON CONFLICT (id) DO NOTHING`;
    const [operation] = await tx.$queryRaw<{ expected: string[]; tenant_id: string }[]>`
      SELECT expected, tenant_id FROM operation WHERE id = ${step.operationId}::uuid FOR UPDATE`;
    // A step never crosses tenants: an event naming another tenant's operation is ignored.
    if (!operation || operation.tenant_id !== tenantId) return;
    await tx.operationStep.create({
      data: {
        id: randomUUID(), operationId: step.operationId, service: step.service, step: step.step, outcome: step.outcome,
        counts: step.counts, durationMs: step.durationMs, dryRun: step.dryRun, detail: step.detail, causeType: step.causeType,
        at: new Date(event.time),
      },
    });
    const steps = await tx.operationStep.findMany({ where: { operationId: step.operationId }, select: { service: true, outcome: true } });
    const reported = new Set(steps.map((s) => s.service));
    if (operation.expected.every((s) => reported.has(s))) {
      const failed = steps.some((s) => s.outcome === 'failed');
      await tx.operation.update({
        where: { id: step.operationId },
        data: { status: failed ? 'failed' : 'completed', completedAt: new Date() },
      });
    }
  });
}

export async function getOperation(db: DirectoryDb, tenantId: string, id: string) {
  const op = await db.operation.findFirst({
    where: { id, tenantId },
    include: { steps: { orderBy: { at: 'asc' } } },
  });
  if (!op) return null;
  const reported = new Set(op.steps.map((s) => s.service));
  return {
    id: op.id,
    kind: op.kind,
    subjectId: op.subjectId,
    status: op.status,
    dryRun: op.dryRun,
    createdAt: op.createdAt.toISOString(),
    completedAt: op.completedAt?.toISOString() ?? null,
    expected: op.expected,
    waitingFor: op.expected.filter((s) => !reported.has(s)),
    steps: op.steps.map((s) => ({
      service: s.service, step: s.step, outcome: s.outcome, counts: s.counts, durationMs: s.durationMs,
      detail: s.detail, at: s.at.toISOString(),
    })),
  };
}
