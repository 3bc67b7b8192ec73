import { randomUUID } from 'node:crypto';
import { expectedStepsFor, isEventType, type EventEnvelope, type EventOf } from '@roster/contracts';
import type { SqlTx } from '@roster/platform/db/database';
import type { DirectoryDb } from '../db/client.js';
import { Writes } from '@roster/platform/db/together';

/** One awaited step: the event that calls for it and the service that must report it. */
interface AwaitedStep { eventId: string; service: string; type: string }

/** The steps the catalogue expects for these events (one per event and expected service). */
export function awaitedStepsOf(events: readonly { id: string; type: string }[]): AwaitedStep[] {
  return events.flatMap((e) => (isEventType(e.type) ? expectedStepsFor(e.type).map((service) => ({ eventId: e.id, service, type: e.type })) : []));
}

/** Adds awaited steps (ON CONFLICT: a redelivered step adds nothing twice). */
async function awaitSteps(tx: SqlTx, operationId: string, rows: readonly AwaitedStep[]): Promise<void> {
  if (rows.length === 0) return;
  await awaitStepsWith(new Writes(), operationId, rows).run(tx);
}

/** `awaitSteps` as a write of a command's one statement (`Writes`, as `awaited`). */
function awaitStepsWith(writes: Writes, operationId: string, rows: readonly AwaitedStep[]): Writes {
  const p = (v: unknown) => writes.param(v);
  return writes.add('awaited', `INSERT INTO operation_awaited (operation_id, event_id, service, type)
     SELECT ${p(operationId)}::uuid, x.event_id, x.service, x.type
       FROM unnest(${p(rows.map((r) => r.eventId))}::text[], ${p(rows.map((r) => r.service))}::text[], ${p(rows.map((r) => r.type))}::text[]) AS x(event_id, service, type)
     ON CONFLICT DO NOTHING RETURNING 1`);
}

/**
 * B4: an operation is the cascade a command started. It awaits a step for each event it emitted
 * and each service the catalogue says must handle it (`operation_awaited`): a bulk access change
 * of 1,000 memberships completes when identity has handled all 1,000, not the first. Steps that
 * caused further events (`followUps`: visits.unassigned after a deactivation) add what those
 * await (issue 16 item 3). An operation that emitted nothing awaited is completed at once.
 */
export async function startOperation(
  tx: SqlTx, o: { id: string; tenantId: string; kind: string; subjectId: string | null; dryRun: boolean; events: readonly EventEnvelope[] },
): Promise<void> {
  await startOperationWith(new Writes(), o).run(tx);
}

/** `startOperation` as writes of a command's one statement (`Writes`, as `started` and `awaited`). */
export function startOperationWith(
  writes: Writes, o: { id: string; tenantId: string; kind: string; subjectId: string | null; dryRun: boolean; events: readonly EventEnvelope[] },
): Writes {
  const awaited = awaitedStepsOf(o.events);
  const counts: Record<string, number> = {};
  for (const a of awaited) counts[a.service] = (counts[a.service] ?? 0) + 1;
  const expected = Object.keys(counts).sort();
  const p = (v: unknown) => writes.param(v);
  const status = p(expected.length ? 'pending' : 'completed');
  // The operation and the steps it awaits in one statement (a row may reference one inserted beside it:
  // foreign keys are checked at the end of the statement).
  writes.add('started', `INSERT INTO operation (id, tenant_id, kind, subject_id, dry_run, expected, expected_counts, traceparent, status, completed_at)
       VALUES (${p(o.id)}::uuid, ${p(o.tenantId)}::uuid, ${p(o.kind)}, ${p(o.subjectId)}::uuid, ${p(o.dryRun)}, ${p(expected)}::text[], ${p(JSON.stringify(counts))}::jsonb,
               ${p(o.events.find((e) => e.traceparent)?.traceparent ?? null)}, ${status}, CASE WHEN ${status} = 'completed' THEN now() END)
       RETURNING 1`);
  return awaited.length > 0 ? awaitStepsWith(writes, o.id, awaited) : writes;
}

/**
 * P9: the accounts whose trails show a step's audit line. A step caused by a membership event: that
 * membership's account, read from the directory's own copy of the event (its outbox row) — a bulk
 * grant of 1,000 would otherwise put all 1,000 accounts on each of its 1,000 lines. Otherwise, or
 * once that row is gone: every account of the subject, or the subject account itself.
 */
const stepAccounts = (tenant: string, subject: string, causeType: string, causeEventId: string) =>
  `COALESCE(CASE WHEN ${causeType} IN ('access.granted', 'access.revoked', 'role.changed')
                 THEN (SELECT ARRAY[(ob.envelope->'data'->>'accountId')::uuid] FROM outbox ob
                        WHERE ob.id = ${causeEventId} AND ob.envelope->>'tenantid' = (${tenant})::text) END,
            (SELECT array_agg(m.account_id) FROM membership m WHERE m.tenant_id = ${tenant} AND m.person_id = ${subject}),
            (SELECT array_agg(a.id) FROM account a WHERE a.tenant_id = ${tenant} AND a.id = ${subject}), '{}')`;

/**
 * B4: records a service's `cascade.step.completed` under its operation, once per event (inbox).
 * No lock on the operation: 1,000 steps of a bulk change are recorded concurrently, and whether
 * the operation is complete is derived from its steps when it is read (`getOperation`), so two
 * replicas recording the last two steps at once cannot both miss completion.
 * Steps of cascades that started outside the directory create their operation on first sight
 * (awaiting one step per expected service).
 */
export async function recordCascadeStep(tx: SqlTx, event: EventOf<'cascade.step.completed'>): Promise<void> {
  const step = event.data;
  const tenantId = event.tenantid;
  // $1 … $12: the step row, the same in both statements below.
  const stepValues = [
    randomUUID(), step.service, step.step, step.outcome, JSON.stringify(step.counts), step.durationMs, step.dryRun, step.detail,
    step.causeType, step.causeEventId, new Date(event.time), step.operationId,
  ];
  const stepRow = '$1::uuid, o.id, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11';
  // P9: an effect a service applied is also a line of the audit trail, by `system`, linked to the
  // operation, shown for the subject and in the trails of the subject's accounts (or the account).
  const audited = step.outcome === 'applied' && !step.dryRun;
  // Part of the cascade by its correlation: the step's own cause (all its expected services, so a
  // cascade first seen through a later step still waits for the rest) and the events it caused.
  const followUps = awaitedStepsOf([{ id: step.causeEventId, type: step.causeType }, ...(step.followUps ?? [])]);
  // The usual case, the operation exists: the step, its audit line and what it awaits in ONE
  // statement, one round trip per step (the platform claimed the inbox for the batch).
  const [row] = await tx.$queryRawUnsafe<{ recorded: number }[]>(
    `WITH o AS (SELECT id, subject_id FROM operation WHERE id = $12::uuid AND tenant_id = $13::uuid),
          recorded AS (
            INSERT INTO operation_step (id, operation_id, service, step, outcome, counts, duration_ms, dry_run, detail, cause_type, cause_event_id, at)
            SELECT ${stepRow} FROM o RETURNING 1),
          audit AS (
            INSERT INTO audit_entry (id, tenant_id, at, actor_kind, action, subject_id, account_ids, operation_id, detail)
            SELECT $14::uuid, $13::uuid, $11, 'system', $15, o.subject_id::text,
                   ${stepAccounts('$13::uuid', 'o.subject_id', '$9', '$10')},
                   o.id, $16::jsonb
            FROM o WHERE $17 AND o.subject_id IS NOT NULL),
          followed AS (
            INSERT INTO operation_awaited (operation_id, event_id, service, type)
            SELECT o.id, x.event_id, x.service, x.type FROM o, unnest($18::text[], $19::text[], $20::text[]) AS x(event_id, service, type)
            ON CONFLICT DO NOTHING)
     SELECT count(*)::int AS recorded FROM recorded`,
    ...stepValues, tenantId, randomUUID(), `cascade.${step.service}.${step.step}`,
    JSON.stringify({ service: step.service, step: step.step, counts: step.counts, causeType: step.causeType }), audited,
    followUps.map((r) => r.eventId), followUps.map((r) => r.service), followUps.map((r) => r.type),
  );
  if (row?.recorded === 1) return;
  // Another tenant's operation, or a cascade started elsewhere (no operation yet).
  const expected = isEventType(step.causeType) ? [...expectedStepsFor(step.causeType)] : [];
  await tx.$executeRawUnsafe(
    `INSERT INTO operation (id, tenant_id, kind, subject_id, dry_run, status, expected)
     VALUES ($1::uuid, $2::uuid, $3, NULL, $4, 'pending', $5::text[]) ON CONFLICT (id) DO NOTHING`,
    step.operationId, tenantId, step.causeType, step.dryRun, expected,
  );
  // A step never crosses tenants: an event naming another tenant's operation is ignored.
  const mine = await tx.$executeRawUnsafe(
    `INSERT INTO operation_step (id, operation_id, service, step, outcome, counts, duration_ms, dry_run, detail, cause_type, cause_event_id, at)
     SELECT ${stepRow} FROM operation o WHERE o.id = $12::uuid AND o.tenant_id = $13::uuid`,
    ...stepValues, tenantId,
  );
  if (mine !== 1) return;
  await awaitSteps(tx, step.operationId, followUps);
}

/**
 * B4: a run of `cascade.step.completed` recorded with one statement (issue 19: a bulk grant's 1,000
 * steps in batches of 64, not 1,000 round trips): the steps of existing operations of their own
 * tenant, their audit lines and what they await, exactly as `recordCascadeStep` does one by one;
 * the rare step whose operation does not exist yet takes `recordCascadeStep`'s slow path.
 */
export async function recordCascadeSteps(tx: SqlTx, events: readonly EventOf<'cascade.step.completed'>[]): Promise<void> {
  if (events.length === 1) return recordCascadeStep(tx, events[0]!);
  const rows = events.map((event, n) => ({ n, event, step: event.data }));
  const followUps = rows.flatMap(({ n, step }) =>
    awaitedStepsOf([{ id: step.causeEventId, type: step.causeType }, ...(step.followUps ?? [])]).map((f) => ({ n, ...f })));
  const col = <T>(f: (r: (typeof rows)[number]) => T) => rows.map(f);
  const recorded = await tx.$queryRawUnsafe<{ n: number }[]>(
    `WITH s AS (
       SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::float8[],
                            $10::boolean[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::uuid[], $16::text[], $17::jsonb[], $18::boolean[])
         AS s(n, step_id, operation_id, tenant_id, service, step, outcome, counts, duration_ms, dry_run, detail, cause_type, cause_event_id, at, audit_id, action, audit_detail, audited)),
          o AS (SELECT s.*, op.subject_id FROM s JOIN operation op ON op.id = s.operation_id AND op.tenant_id = s.tenant_id),
          recorded AS (
            INSERT INTO operation_step (id, operation_id, service, step, outcome, counts, duration_ms, dry_run, detail, cause_type, cause_event_id, at)
            SELECT step_id, operation_id, service, step, outcome, counts, duration_ms, dry_run, detail, cause_type, cause_event_id, at FROM o ORDER BY n),
          audit AS (
            INSERT INTO audit_entry (id, tenant_id, at, actor_kind, action, subject_id, account_ids, operation_id, detail)
            SELECT audit_id, tenant_id, at, 'system', action, subject_id::text,
                   ${stepAccounts('o.tenant_id', 'o.subject_id', 'o.cause_type', 'o.cause_event_id')},
                   operation_id, audit_detail
            FROM o WHERE audited AND subject_id IS NOT NULL ORDER BY n),
          followed AS (
            INSERT INTO operation_awaited (operation_id, event_id, service, type)
            SELECT o.operation_id, f.event_id, f.service, f.type FROM o JOIN unnest($19::int[], $20::text[], $21::text[], $22::text[]) AS f(n, event_id, service, type) ON f.n = o.n
            ON CONFLICT DO NOTHING)
     SELECT n FROM o`,
    col((r) => r.n), col(() => randomUUID()), col((r) => r.step.operationId), col((r) => r.event.tenantid), col((r) => r.step.service),
    col((r) => r.step.step), col((r) => r.step.outcome), col((r) => JSON.stringify(r.step.counts)), col((r) => r.step.durationMs),
    col((r) => r.step.dryRun), col((r) => r.step.detail), col((r) => r.step.causeType), col((r) => r.step.causeEventId), col((r) => r.event.time),
    col(() => randomUUID()), col((r) => `cascade.${r.step.service}.${r.step.step}`),
    col((r) => JSON.stringify({ service: r.step.service, step: r.step.step, counts: r.step.counts, causeType: r.step.causeType })),
    col((r) => r.step.outcome === 'applied' && !r.step.dryRun),
    followUps.map((f) => f.n), followUps.map((f) => f.eventId), followUps.map((f) => f.service), followUps.map((f) => f.type),
  );
  const done = new Set(recorded.map((r) => r.n));
  for (const r of rows) if (!done.has(r.n)) await recordCascadeStep(tx, r.event);
}

/**
 * Per service: the steps awaited and how many of them are reported (a step matches by its cause
 * event), from `operation_awaited`; null for an operation recorded before it existed.
 */
async function awaitedProgress(tx: SqlTx, operationId: string): Promise<{ awaited: Record<string, number>; reported: Record<string, number> } | null> {
  const rows = await tx.$queryRawUnsafe<{ service: string; awaited: number; reported: number }[]>(
    `SELECT a.service, count(*)::int AS awaited,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM operation_step s
                                            WHERE s.operation_id = a.operation_id AND s.service = a.service AND s.cause_event_id = a.event_id))::int AS reported
       FROM operation_awaited a WHERE a.operation_id = $1::uuid GROUP BY a.service ORDER BY a.service`, operationId,
  );
  if (rows.length === 0) return null;
  return {
    awaited: Object.fromEntries(rows.map((r) => [r.service, r.awaited])),
    reported: Object.fromEntries(rows.map((r) => [r.service, r.reported])),
  };
}

/** Steps reported per service (distinct cause events: a service may record several steps for one event). */
async function reportedCounts(tx: SqlTx, operationId: string): Promise<{ reported: Record<string, number>; failed: boolean; lastAt: Date | null }> {
  const rows = await tx.$queryRawUnsafe<{ service: string; n: number; failed: boolean; last_at: Date | null }[]>(
    `SELECT service, count(DISTINCT COALESCE(cause_event_id, id::text))::int AS n, bool_or(outcome = 'failed') AS failed, max(at) AS last_at
     FROM operation_step WHERE operation_id = $1::uuid GROUP BY service`, operationId,
  );
  return {
    reported: Object.fromEntries(rows.map((r) => [r.service, r.n])),
    failed: rows.some((r) => r.failed),
    lastAt: rows.reduce<Date | null>((m, r) => (r.last_at && (!m || r.last_at > m) ? r.last_at : m), null),
  };
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
  let op = await db.operation.findFirst({ where: { id, tenantId } });
  if (!op) return null;
  // Awaited event by event; operations from before that was recorded: by counts per service.
  // Progress first, the steps' times after: steps only accrue, so the last time read here covers
  // every step the progress counted (read the other way round, a step landing in between made the
  // operation complete with an earlier completedAt than its last effect).
  const progress = await awaitedProgress(db, id);
  const recorded = await reportedCounts(db, id);
  const { failed, lastAt } = recorded;
  const awaited = progress?.awaited ?? (op.expectedCounts as Record<string, number> | null) ?? Object.fromEntries(op.expected.map((s) => [s, 1]));
  const reported = progress?.reported ?? recorded.reported;
  const done = Object.entries(awaited).every(([service, n]) => (reported[service] ?? 0) >= n);
  if (op.status === 'pending' && done) {
    // Completed when its last awaited step was recorded; stored the first time it is seen.
    op = await db.operation.update({
      where: { id },
      data: { status: failed ? 'failed' : 'completed', completedAt: lastAt ?? new Date(), reportedCounts: reported },
    });
  }
  const rows = await db.$queryRaw<{ service: string; step: string; outcome: string; events: number; counts: Record<string, number>[]; duration_ms: number; detail: string | null; first_at: Date; at: Date }[]>`
    SELECT service, step, outcome, count(*)::int AS events, array_agg(counts) AS counts, sum(duration_ms)::float8 AS duration_ms,
           min(detail) AS detail, min(at) AS first_at, max(at) AS at
    FROM operation_step WHERE operation_id = ${id}::uuid GROUP BY service, step, outcome ORDER BY min(at), service`;
  const steps: StepGroup[] = rows.map((r) => {
    const counts: Record<string, number> = {};
    for (const c of r.counts) for (const [k, v] of Object.entries(c)) counts[k] = (counts[k] ?? 0) + v;
    return { service: r.service, step: r.step, outcome: r.outcome, events: r.events, counts, durationMs: r.duration_ms, detail: r.detail, firstAt: r.first_at, at: r.at };
  });
  return {
    id: op.id,
    kind: op.kind,
    subjectId: op.subjectId,
    status: op.status,
    dryRun: op.dryRun,
    createdAt: op.createdAt.toISOString(),
    completedAt: op.completedAt?.toISOString() ?? null,
    traceparent: op.traceparent,
    traceId: op.traceparent?.split('-')[1] ?? null,
    expected: Object.keys(awaited).sort(),
    progress: Object.fromEntries(Object.entries(awaited).map(([s, n]) => [s, { reported: reported[s] ?? 0, expected: n }])),
    waitingFor: Object.entries(awaited).filter(([s, n]) => (reported[s] ?? 0) < n).map(([s]) => s),
    steps: steps.map((s) => ({
      service: s.service, step: s.step, outcome: s.outcome, events: s.events, counts: s.counts, durationMs: s.durationMs,
      detail: s.detail, firstAt: s.firstAt.toISOString(), at: s.at.toISOString(),
    })),
  };
}
