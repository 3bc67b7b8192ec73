import { randomUUID } from 'node:crypto';
import type { Actor, RequestKind } from '@roster/contracts';
import type { Principal } from '@roster/platform/auth/claims';
import { hasPermission } from '@roster/platform/auth/middleware';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import { conflict, notFound } from '@roster/platform/errors';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { requireKnownTimeZone } from '../db/time-zones.js';
import { assignableDefaultSitter, requireActiveClient } from '../people/eligibility.js';
import { insertVisit } from '../visits/commands.js';
import { clientScopeCondition, visitScopeOf } from '../visits/scope.js';
import { findVisibleRequest, requestDto, type RequestDto, type RequestRow } from './queries.js';
import { decideRequest, decideSubmission, decideTargetVisit, goneVisitReason, requireWindowsAhead, type RequestActor, type RequestCommand, type RequestedVisit, type TargetVisit } from './request.js';
import { declineRequestsAboutGoneVisits, requestDeclinedEvent, SYSTEM_ACTOR } from './system-answers.js';

export interface NewRequest {
  kind: RequestKind;
  clientId?: string | undefined;
  visits?: RequestedVisit[] | undefined;
  visitId?: string | undefined;
  note?: string | undefined;
  timeZone?: string | undefined;
}

const requestActorOf = (me: Principal): RequestActor => ({
  personId: me.personId, kind: me.kind, submitsOwn: hasPermission(me, 'requests.submit_own'), manages: hasPermission(me, 'visits.manage'),
});
const actorOf = (me: Principal): Actor => ({ kind: 'person', personId: me.personId, impersonatorId: me.impersonatorId });
const wire = (v: RequestedVisit) => ({ startsAt: v.startsAt.toISOString(), endsAt: v.endsAt.toISOString(), service: v.service ?? null });

/** The visit a change or cancellation is about, locked when it is about to change. */
async function targetVisit(tx: SqlTx, tenantId: string, visitId: string, lock: boolean): Promise<TargetVisit | null> {
  const [row] = await tx.$queryRawUnsafe<{ client_id: string; status: string; starts_at: Date }[]>(
    `SELECT client_id, status, starts_at FROM visit WHERE id = $1::uuid AND tenant_id = $2::uuid${lock ? ' FOR UPDATE' : ''}`, visitId, tenantId,
  );
  return row ? { clientId: row.client_id, status: row.status === 'completed' ? 'completed' : 'scheduled', startsAt: new Date(row.starts_at) } : null;
}

/** A manager asks only for a client they may see (a supervisor's areas, a salesperson's own). */
async function requireClientInScope(tx: SqlTx, me: Principal, clientId: string): Promise<void> {
  const params: unknown[] = [me.tenantId, clientId];
  const condition = clientScopeCondition(await visitScopeOf(tx, me), 'c', params);
  const [row] = await tx.$queryRawUnsafe<{ id: string }[]>(
    `SELECT c.id FROM person_projection c WHERE c.tenant_id = $1::uuid AND c.id = $2::uuid AND ${condition}`, ...params,
  );
  if (!row) throw notFound(`client ${clientId}`);
}

/**
 * POST /requests (S3): a client asks for visits, a change or a cancellation of an upcoming visit
 * of theirs (or a manager on their behalf). Stored pending; `request.submitted` makes the
 * managers' event e-mail monitors for it speak.
 */
export async function submitRequest(db: SqlClient, me: Principal, r: NewRequest): Promise<RequestDto> {
  const now = new Date();
  const clientId = decideSubmission(r, requestActorOf(me), now);
  return db.$transaction(async (tx) => {
    if (clientId !== me.personId) await requireClientInScope(tx, me, clientId);
    // FOR SHARE: a deactivation applied now waits for this request, then withdraws it (C1).
    await requireActiveClient(tx, me.tenantId, clientId);
    const timeZone = await requireKnownTimeZone(tx, r.timeZone ?? 'UTC');
    if (r.visitId) decideTargetVisit(r.visitId, await targetVisit(tx, me.tenantId, r.visitId, false), clientId, now);
    const id = randomUUID();
    const visits = (r.visits ?? []).map(wire);
    const [row] = await tx.$queryRawUnsafe<(RequestRow & { client_name: string | null })[]>(
      `INSERT INTO visit_request AS r (id, tenant_id, client_id, kind, visit_id, visits, time_zone, note, submitted_by)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::uuid, $6::jsonb, $7, $8, $9::uuid)
       RETURNING r.*, (SELECT NULLIF(concat_ws(' ', first_name, last_name), '') FROM person_projection WHERE id = $3::uuid AND tenant_id = $2::uuid) AS client_name`,
      id, me.tenantId, clientId, r.kind, r.visitId ?? null, JSON.stringify(visits), timeZone, r.note ?? null, me.personId,
    );
    await stageEvents(tx, [eventFor('scheduling', {
      type: 'request.submitted', subject: clientId, tenantId: me.tenantId,
      data: { requestId: id, clientId, clientName: row!.client_name, kind: r.kind, visits, visitId: r.visitId ?? null, note: r.note ?? null, timeZone, actor: actorOf(me) },
    })]);
    return requestDto(row!);
  });
}

type Answer = { request: RequestDto } | { declinedBySystem: string };

/**
 * POST /requests/{id}/approve (S3): the visits asked for are created (with the client's default
 * sitter when they can take them, otherwise unassigned), or the visit is moved or cancelled.
 * Locks in the cascades' order (sitter, client, visit, then the request), so an approval and a
 * deactivation never deadlock: whichever is second sees the first's result.
 */
export async function approveRequest(db: SqlClient, me: Principal, id: string): Promise<RequestDto> {
  const actor = requestActorOf(me);
  const outcome = await db.$transaction(async (tx): Promise<Answer> => {
    const scope = await visitScopeOf(tx, me);
    const seen = await findVisibleRequest(tx, scope, id);
    if (!seen) throw notFound(`request ${id}`);
    decideRequest({ status: seen.status, clientId: seen.client_id }, { type: 'approve' }, actor);
    const sitterId = seen.kind === 'visits' ? await assignableDefaultSitter(tx, me.tenantId, seen.client_id) : null;
    await requireActiveClient(tx, me.tenantId, seen.client_id);
    const visit = seen.visit_id ? await targetVisit(tx, me.tenantId, seen.visit_id, true) : null;
    const request = (await findVisibleRequest(tx, scope, id, true))!;
    decideRequest({ status: request.status, clientId: request.client_id }, { type: 'approve' }, actor);
    if (request.visit_id) {
      const gone = goneVisitReason(visit);
      if (gone) {
        await answer(tx, request, 'declined', null, gone);
        await stageEvents(tx, [requestDeclinedEvent(request, gone, SYSTEM_ACTOR)]);
        return { declinedBySystem: gone };
      }
      decideTargetVisit(request.visit_id, visit, request.client_id, new Date());
    }
    requireWindowsAhead(request.visits, new Date());
    const visitIds = await carryOut(tx, request, sitterId);
    // Approved before the sweep below, which would otherwise decline this very request (its visit is gone now).
    const row = await answer(tx, request, 'approved', me.personId, null, visitIds);
    // A cancellation may leave other pending requests about the same visit without one.
    if (request.kind === 'cancel') await declineRequestsAboutGoneVisits(tx, me.tenantId);
    await stageEvents(tx, [eventFor('scheduling', {
      type: 'request.approved', subject: request.client_id, tenantId: me.tenantId,
      data: {
        requestId: id, clientId: request.client_id, kind: request.kind, visitIds, visits: request.kind === 'cancel' ? [] : request.visits,
        timeZone: request.time_zone, sitterId: request.kind === 'visits' ? sitterId : null, actor: actorOf(me),
      },
    })]);
    return { request: requestDto(row) };
  });
  if ('declinedBySystem' in outcome) {
    throw conflict(`${outcome.declinedBySystem}: the request cannot be approved, so it was declined and the client told`, { state: 'declined' });
  }
  return outcome.request;
}

/** What an approved request does to the visits; returns the ids it created, moved or cancelled. */
async function carryOut(tx: SqlTx, r: RequestRow, sitterId: string | null): Promise<string[]> {
  const window = (v: RequestRow['visits'][number]) => ({ startsAt: new Date(v.startsAt), endsAt: new Date(v.endsAt), service: v.service ?? undefined });
  switch (r.kind) {
    case 'visits': {
      const ids: string[] = [];
      for (const v of r.visits) ids.push(await insertVisit(tx, r.tenant_id, { clientId: r.client_id, ...window(v), timeZone: r.time_zone }, sitterId));
      return ids;
    }
    case 'change': {
      const w = window(r.visits[0]!);
      await tx.$executeRawUnsafe(
        `UPDATE visit SET starts_at = $3, ends_at = $4, service = COALESCE($5, service) WHERE id = $1::uuid AND tenant_id = $2::uuid`,
        r.visit_id, r.tenant_id, w.startsAt, w.endsAt, w.service ?? null,
      );
      // The assignment mirrors the visit's start (the sitter cascade finds upcoming visits by it).
      await tx.$executeRawUnsafe('UPDATE visit_assignment SET starts_at = $3 WHERE visit_id = $1::uuid AND tenant_id = $2::uuid', r.visit_id, r.tenant_id, w.startsAt);
      return [r.visit_id!];
    }
    case 'cancel':
      await tx.$executeRawUnsafe(
        `WITH surcharges AS (DELETE FROM surcharge WHERE tenant_id = $2::uuid AND visit_id = $1::uuid),
              assignment AS (DELETE FROM visit_assignment WHERE tenant_id = $2::uuid AND visit_id = $1::uuid)
         DELETE FROM visit WHERE id = $1::uuid AND tenant_id = $2::uuid`,
        r.visit_id, r.tenant_id,
      );
      return [r.visit_id!];
  }
}

async function answer(
  tx: SqlTx, r: RequestRow, status: 'approved' | 'declined' | 'withdrawn', by: string | null, reason: string | null, visitIds: string[] = [],
): Promise<RequestRow> {
  const [row] = await tx.$queryRawUnsafe<RequestRow[]>(
    `UPDATE visit_request r SET status = $3, answered_by = $4::uuid, answered_at = now(), decline_reason = $5, visit_ids = $6::uuid[]
      WHERE r.id = $1::uuid AND r.tenant_id = $2::uuid RETURNING r.*`,
    r.id, r.tenant_id, status, by, reason, visitIds,
  );
  return row!;
}

/** POST /requests/{id}/decline (S3) and DELETE /requests/{id} (withdraw): a pending request is answered once. */
export async function closeRequest(db: SqlClient, me: Principal, id: string, command: Exclude<RequestCommand, { type: 'approve' }>): Promise<RequestDto> {
  return db.$transaction(async (tx) => {
    const request = await findVisibleRequest(tx, await visitScopeOf(tx, me), id, true);
    if (!request) throw notFound(`request ${id}`);
    decideRequest({ status: request.status, clientId: request.client_id }, command, requestActorOf(me));
    if (command.type === 'withdraw') return requestDto(await answer(tx, request, 'withdrawn', me.personId, null));
    const row = await answer(tx, request, 'declined', me.personId, command.reason);
    await stageEvents(tx, [requestDeclinedEvent(request, command.reason, actorOf(me))]);
    return requestDto(row);
  });
}
