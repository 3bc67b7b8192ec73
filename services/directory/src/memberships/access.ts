import { randomUUID } from 'node:crypto';
import type { Actor, RosterEvent } from '@roster/contracts';
import { currentWork, runInWork } from '@roster/platform/context';
import { badRequest, conflict, notFound } from '@roster/platform/errors';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import type { DirectoryDb, DirectoryTx } from '../db/client.js';
import type { SqlTx, TransactionRunner } from '@roster/platform/db/sql';
import { recordAudit, type AuditRecord } from '../audit/audit.js';
import { unknownReference } from '../errors.js';
import { startOperation } from '../operations/operations.js';
import { rolesByKey, type RoleView } from '../roles/definitions.js';

/** Most memberships one request may change (P4); the 400 says so. */
export const MAX_GRANTS_PER_REQUEST = 1000;

export interface Grant {
  personId: string;
  accountId: string;
  roleKey: string;
}

/** Checks the caller may make these changes (reach and rank); runs before anything is written. */
export type AccessCheck = (tx: SqlTx, plan: { grants: Grant[]; current: Map<string, string>; roles: Map<string, RoleView> }) => Promise<void>;

const keyOf = (personId: string, accountId: string) => `${personId}/${accountId}`;

/**
 * P4: gives people roles in accounts, in one transaction and one operation: a new membership
 * emits `access.granted`, a different role on an existing one `role.changed` (with `notBefore`:
 * tokens carrying the old role stop working), the same role nothing. Every event carries the
 * operation id as correlation id, and the person's current version as subjectversion (memberships
 * do not change the version: only profile and lifecycle do). Memberships not listed are kept (removal is `revokeAccess`).
 * Refuses (nothing changed): more than MAX_GRANTS_PER_REQUEST grants, the same membership twice,
 * unknown people, accounts or roles, an archived person, a client given a staff role or the reverse.
 */
export async function grantAccess(
  db: TransactionRunner<SqlTx>, tenantId: string, grants: readonly Grant[], actor: Actor,
  options: { kind?: string; subjectId?: string | null; check?: AccessCheck } = {},
): Promise<{ operationId: string; granted: number; changed: number; unchanged: number; events: readonly RosterEvent[] }> {
  if (grants.length === 0) throw badRequest('grants: give at least one membership');
  if (grants.length > MAX_GRANTS_PER_REQUEST) {
    throw badRequest(`grants: at most ${MAX_GRANTS_PER_REQUEST} memberships per request (got ${grants.length}); split the list`, { maxGrants: MAX_GRANTS_PER_REQUEST });
  }
  const seen = new Set<string>();
  for (const g of grants) {
    const k = keyOf(g.personId, g.accountId);
    if (seen.has(k)) throw badRequest(`grants: person ${g.personId} appears twice for account ${g.accountId}`);
    seen.add(k);
  }
  const operationId = randomUUID();
  const work = { correlationId: operationId, causationId: currentWork()?.correlationId, tenantId };
  return runInWork(work, () => db.$transaction(async (tx) => {
    const personIds = [...new Set(grants.map((g) => g.personId))];
    const accountIds = [...new Set(grants.map((g) => g.accountId))];
    // People first, locked: a concurrent lifecycle change or access change to them waits.
    const people = await tx.$queryRawUnsafe<{ id: string; kind: string; status: string; version: number }[]>(
      'SELECT id::text, kind, status, version FROM person WHERE tenant_id = $1::uuid AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE',
      tenantId, personIds,
    );
    const byId = new Map(people.map((p) => [p.id, p]));
    const missingPeople = personIds.filter((id) => !byId.has(id));
    if (missingPeople.length) {
      if (options.subjectId && missingPeople.includes(options.subjectId)) throw notFound(`person ${options.subjectId}`);
      throw unknownReference('person', missingPeople);
    }
    const accounts = await tx.$queryRawUnsafe<{ id: string }[]>(
      'SELECT id::text FROM account WHERE tenant_id = $1::uuid AND id = ANY($2::uuid[])', tenantId, accountIds,
    );
    const known = new Set(accounts.map((a) => a.id));
    const missingAccounts = accountIds.filter((id) => !known.has(id));
    if (missingAccounts.length) {
      if (options.subjectId && missingAccounts.includes(options.subjectId)) throw notFound(`account ${options.subjectId}`);
      throw unknownReference('account', missingAccounts);
    }
    const roles = await rolesByKey(tx, tenantId, grants.map((g) => g.roleKey));
    const missingRoles = [...new Set(grants.map((g) => g.roleKey))].filter((k) => !roles.has(k));
    if (missingRoles.length) throw unknownReference('role', missingRoles);
    for (const g of grants) {
      const p = byId.get(g.personId)!;
      if (p.status === 'archived') throw conflict(`person ${p.id} is archived: restore them before giving access`, { personId: p.id, state: p.status });
      if (p.kind === 'client' && g.roleKey !== 'client') throw badRequest(`person ${p.id} is a client: clients hold the role client, not ${g.roleKey}`);
      if (p.kind === 'staff' && g.roleKey === 'client') throw badRequest(`person ${p.id} is staff: the role client is for clients`);
    }
    const existing = await tx.$queryRawUnsafe<{ person_id: string; account_id: string; role_key: string }[]>(
      'SELECT person_id::text, account_id::text, role_key FROM membership WHERE person_id = ANY($1::uuid[]) AND account_id = ANY($2::uuid[])',
      personIds, accountIds,
    );
    const current = new Map(existing.map((m) => [keyOf(m.person_id, m.account_id), m.role_key]));
    await options.check?.(tx, { grants: [...grants], current, roles });

    const now = new Date();
    const events: RosterEvent[] = [];
    const audit: AuditRecord[] = [];
    const inserts = grants.filter((g) => !current.has(keyOf(g.personId, g.accountId)));
    const updates: Grant[] = [];
    // Each access.granted says how many the person gets in this operation: one notice for all of them (P4).
    const grantsTo = new Map<string, number>();
    for (const g of inserts) grantsTo.set(g.personId, (grantsTo.get(g.personId) ?? 0) + 1);
    for (const g of grants) {
      const was = current.get(keyOf(g.personId, g.accountId));
      if (was === g.roleKey) continue;
      if (was === undefined) {
        events.push(eventFor('directory', {
          type: 'access.granted', subject: g.personId, tenantId, subjectVersion: byId.get(g.personId)!.version,
          data: { ...g, grantsToPerson: grantsTo.get(g.personId)!, actor },
        }));
        audit.push({ tenantId, actor, action: 'access.granted', subjectId: g.personId, accountIds: [g.accountId], operationId, detail: { roleKey: g.roleKey } });
      } else {
        updates.push(g);
        events.push(eventFor('directory', {
          type: 'role.changed', subject: g.personId, tenantId, subjectVersion: byId.get(g.personId)!.version,
          data: { personId: g.personId, accountId: g.accountId, fromRoleKey: was, toRoleKey: g.roleKey, notBefore: now.toISOString(), actor },
        }));
        audit.push({ tenantId, actor, action: 'role.changed', subjectId: g.personId, accountIds: [g.accountId], operationId, detail: { fromRoleKey: was, toRoleKey: g.roleKey } });
      }
    }
    if (inserts.length) {
      await tx.$executeRawUnsafe(
        `INSERT INTO membership (tenant_id, person_id, account_id, role_key)
         SELECT $1::uuid, p, a, r FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS t(p, a, r)`,
        tenantId, inserts.map((g) => g.personId), inserts.map((g) => g.accountId), inserts.map((g) => g.roleKey),
      );
    }
    if (updates.length) {
      await tx.$executeRawUnsafe(
        `UPDATE membership m SET role_key = t.r, updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(p, a, r) WHERE m.person_id = t.p AND m.account_id = t.a`,
        updates.map((g) => g.personId), updates.map((g) => g.accountId), updates.map((g) => g.roleKey),
      );
    }
    await startOperation(tx, { id: operationId, tenantId, kind: options.kind ?? 'access.grant', subjectId: options.subjectId ?? null, dryRun: false, events });
    await stageEvents(tx, events);
    await recordAudit(tx, ...audit);
    return { operationId, granted: inserts.length, changed: updates.length, unchanged: grants.length - inserts.length - updates.length, events };
  }, { timeout: 60_000, maxWait: 10_000 }));
}

/**
 * P4: removes a person's membership of an account: `access.revoked` with `notBefore` (tokens
 * carrying that access stop working), in an operation of its own. 404 when there is no such membership.
 */
export async function revokeAccess(
  db: DirectoryDb, tenantId: string, personId: string, accountId: string, actor: Actor,
  check?: (tx: DirectoryTx, membership: { roleKey: string }) => Promise<void>,
): Promise<{ operationId: string; events: readonly RosterEvent[] }> {
  const operationId = randomUUID();
  const events: RosterEvent[] = [];
  const work = { correlationId: operationId, causationId: currentWork()?.correlationId, tenantId };
  await runInWork(work, () => db.$transaction(async (tx) => {
    const people = await tx.$queryRawUnsafe<{ id: string; version: number }[]>(
      'SELECT id::text, version FROM person WHERE id = $1::uuid AND tenant_id = $2::uuid FOR UPDATE', personId, tenantId,
    );
    if (people.length === 0) throw notFound(`person ${personId}`);
    const membership = await tx.membership.findFirst({ where: { personId, accountId, tenantId } });
    if (!membership) throw notFound(`membership of person ${personId} in account ${accountId}`);
    await check?.(tx, { roleKey: membership.roleKey });
    await tx.membership.delete({ where: { personId_accountId: { personId, accountId } } });
    const event = eventFor('directory', {
      type: 'access.revoked', subject: personId, tenantId, subjectVersion: people[0]!.version,
      data: { personId, accountId, roleKey: membership.roleKey, notBefore: new Date().toISOString(), actor },
    });
    await startOperation(tx, { id: operationId, tenantId, kind: 'access.revoke', subjectId: personId, dryRun: false, events: [event] });
    await stageEvents(tx, [event]);
    events.push(event);
    await recordAudit(tx, { tenantId, actor, action: 'access.revoked', subjectId: personId, accountIds: [accountId], operationId, detail: { roleKey: membership.roleKey } });
  }));
  return { operationId, events };
}
