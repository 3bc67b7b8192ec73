import { randomUUID } from 'node:crypto';
import { expectedStepsFor, isEventType, type EventEnvelope, type EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import { claimInbox } from '@roster/platform/inbox';
import type { DirectoryDb, DirectoryTx } from '../db/client.js';

/**
 * B4: an operation is the cascade a command started. It awaits, per service, one step for each
 * event it emitted that the catalogue says the service must handle (`expected_counts`): a bulk
 * access change of 1,000 memberships completes when identity has handled all 1,000, not the first.
 * An operation that emitted nothing awaited is completed at once.
 */
export async function startOperation(
  tx: DirectoryTx, o: { id: string; tenantId: string; kind: string; subjectId: string | null; dryRun: boolean; events: readonly EventEnvelope[] },
): Promise<void> {
  const counts: Record<string, number> = {};
  for (const e of o.events) {
    if (!isEventType(e.type)) continue;
    for (const s of expectedStepsFor(e.type)) counts[s] = (counts[s] ?? 0) + 1;
  }
  const expected = Object.keys(counts).sort();
  await tx.operation.create({
    data: {
      id: o.id, tenantId: o.tenantId, kind: o.kind, subjectId: o.subjectId, dryRun: o.dryRun, expected, expectedCounts: counts,
      status: expected.length ? 'pending' : 'completed', completedAt: expected.length ? null : new Date(),
    },
  });
}

/**
 * B4: folds a service's `cascade.step.completed` into the operation it belongs to. The operation
 * row is locked so that two steps handled at once by two replicas cannot both miss completion.
 * Steps of cascades that started outside the directory create their operation on first sight
 * (awaiting one step per expected service).
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
    const [operation] = await tx.$queryRaw<{ expected: string[]; tenant_id: string; expected_counts: Record<string, number> | null; reported_counts: Record<string, number>; status: string }[]>`
      SELECT expected, tenant_id::text, expected_counts, reported_counts, status FROM operation WHERE id = ${step.operationId}::uuid FOR UPDATE`;
    // A step never crosses tenants: an event naming another tenant's operation is ignored.
    if (!operation || operation.tenant_id !== tenantId) return;
    const [already] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM operation_step
      WHERE operation_id = ${step.operationId}::uuid AND service = ${step.service} AND cause_event_id = ${step.causeEventId}`;
    await tx.operationStep.create({
      data: {
        id: randomUUID(), operationId: step.operationId, service: step.service, step: step.step, outcome: step.outcome,
        counts: step.counts, durationMs: step.durationMs, dryRun: step.dryRun, detail: step.detail, causeType: step.causeType,
        causeEventId: step.causeEventId, at: new Date(event.time),
      },
    });
    // A service may record several steps for one cause event; the event counts once.
    const reported = { ...operation.reported_counts };
    if ((already?.n ?? 0) === 0) reported[step.service] = (reported[step.service] ?? 0) + 1;
    const awaited = operation.expected_counts ?? Object.fromEntries(operation.expected.map((s) => [s, 1]));
    const done = Object.entries(awaited).every(([service, n]) => (reported[service] ?? 0) >= n);
    const failed = step.outcome === 'failed' || operation.status === 'failed';
    await tx.operation.update({
      where: { id: step.operationId },
      data: {
        reportedCounts: reported,
        ...(operation.status === 'pending' && done ? { status: failed || (await anyFailed(tx, step.operationId)) ? 'failed' : 'completed', completedAt: new Date() } : {}),
      },
    });
  });
}

async function anyFailed(tx: SqlTx, operationId: string): Promise<boolean> {
  const rows = await tx.$queryRawUnsafe<{ n: number }[]>(
    "SELECT count(*)::int AS n FROM operation_step WHERE operation_id = $1::uuid AND outcome = 'failed'", operationId,
  );
  return (rows[0]?.n ?? 0) > 0;
}

interface StepGroup {
  service: string; step: string; outcome: string; events: number; counts: Record<string, number>;
  durationMs: number; detail: string | null; firstAt: Date; at: Date;
}

/**
 * The operation as `GET /operations/{id}` shows it: status, what it awaits (`expected` services,
 * `progress` per service: steps reported of steps awaited), and its steps — one row per service,
 * step and outcome, with the counts summed over the events of that step (`events`), the total
 * handling time, the first and last time (`at`).
 */
export async function getOperation(db: DirectoryDb, tenantId: string, id: string) {
  const op = await db.operation.findFirst({ where: { id, tenantId } });
  if (!op) return null;
  const rows = await db.$queryRaw<{ service: string; step: string; outcome: string; events: number; counts: Record<string, number>[]; duration_ms: number; detail: string | null; first_at: Date; at: Date }[]>`
    SELECT service, step, outcome, count(*)::int AS events, array_agg(counts) AS counts, sum(duration_ms)::float8 AS duration_ms,
           min(detail) AS detail, min(at) AS first_at, max(at) AS at
    FROM operation_step WHERE operation_id = ${id}::uuid GROUP BY service, step, outcome ORDER BY min(at), service`;
  const steps: StepGroup[] = rows.map((r) => {
    const counts: Record<string, number> = {};
    for (const c of r.counts) for (const [k, v] of Object.entries(c)) counts[k] = (counts[k] ?? 0) + v;
    return { service: r.service, step: r.step, outcome: r.outcome, events: r.events, counts, durationMs: r.duration_ms, detail: r.detail, firstAt: r.first_at, at: r.at };
  });
  const reported = op.reportedCounts as Record<string, number>;
  const awaited = (op.expectedCounts as Record<string, number> | null) ?? Object.fromEntries(op.expected.map((s) => [s, 1]));
  return {
    id: op.id,
    kind: op.kind,
    subjectId: op.subjectId,
    status: op.status,
    dryRun: op.dryRun,
    createdAt: op.createdAt.toISOString(),
    completedAt: op.completedAt?.toISOString() ?? null,
    expected: op.expected,
    progress: Object.fromEntries(Object.entries(awaited).map(([s, n]) => [s, { reported: reported[s] ?? 0, expected: n }])),
    waitingFor: Object.entries(awaited).filter(([s, n]) => (reported[s] ?? 0) < n).map(([s]) => s),
    steps: steps.map((s) => ({
      service: s.service, step: s.step, outcome: s.outcome, events: s.events, counts: s.counts, durationMs: s.durationMs,
      detail: s.detail, firstAt: s.firstAt.toISOString(), at: s.at.toISOString(),
    })),
  };
}
