import { randomUUID } from 'node:crypto';
import { isBuiltInRole, type Actor, type PersonKind, type RosterEvent } from '@roster/contracts';
import { runInWork, currentWork } from '@roster/platform/context';
import { badRequest, conflict, notFound } from '@roster/platform/errors';
import type { SqlTx, TransactionRunner } from '@roster/platform/db/sql';
import { Writes } from '@roster/platform/db/together';
import { eventFor, stageEvents, stageEventsWith } from '@roster/platform/outbox';
import type { DirectoryDb, DirectoryTx } from '../db/client.js';
import { recordAudit, recordAuditWith } from '../audit/audit.js';
import { unknownReference } from '../errors.js';
import { startOperationWith } from '../operations/operations.js';
import { findRole } from '../roles/definitions.js';
import { decideLifecycle, previewable, type LifecycleCommand, type PersonStatus } from './person.js';
import { roleKeysOf } from './view.js';

export interface NewPerson {
  /** Given when another service chose the id (an accepted invitation's registration); a UUID. */
  id?: string | undefined;
  kind: PersonKind;
  firstName: string;
  lastName: string;
  email?: string | null | undefined;
  phone?: string | null | undefined;
  /** The account of the person's first membership. */
  accountId: string;
  /** Staff: their role there (default `staff`); clients always hold `client`. */
  roleKey?: string | undefined;
  defaultLandingPage?: string | null | undefined;
  dailyReminder?: boolean | undefined;
  /** Clients: the staff member they are assigned to (a salesperson creating a client gets it). */
  assigneeId?: string | null | undefined;
}

export type PersonRow = Awaited<ReturnType<DirectoryDb['person']['findUniqueOrThrow']>>;

/** A person row as Prisma returns it (PersonRow), for SQL that returns people. */
const PERSON_COLUMNS = `id::text, tenant_id::text AS "tenantId", kind, first_name AS "firstName", last_name AS "lastName", email, phone,
  account_id::text AS "accountId", role_key AS "roleKey", status, version, created_at AS "createdAt", updated_at AS "updatedAt",
  default_landing_page AS "defaultLandingPage", daily_reminder AS "dailyReminder", assignee_id::text AS "assigneeId",
  has_login AS "hasLogin", login_enabled AS "loginEnabled", login_changed_at AS "loginChangedAt"`;

/** P1: adds a client or staff member to the tenant (own transaction). See `createPersonInTx`. */
export async function createPerson(db: TransactionRunner<SqlTx>, tenantId: string, input: NewPerson, actor: Actor): Promise<PersonRow> {
  return db.$transaction((tx) => createPersonInTx(tx, tenantId, input, actor));
}

/**
 * P1: adds a person with their first membership, in the caller's transaction, and announces it
 * with `user.created` (version 1) carrying that membership (no `access.granted` for it).
 * Refuses: an unknown account or role (400), a role that does not fit the kind (400), an e-mail or
 * phone already used in the tenant (409 naming the existing person: add a membership to them
 * with `PUT /people/{id}/access` instead).
 */
export async function createPersonInTx(
  tx: SqlTx, tenantId: string, input: NewPerson, actor: Actor, options: { archivedTakePart?: boolean } = {},
): Promise<PersonRow> {
  const roleKey = await roleForKind(tx, tenantId, input.kind, input.roleKey);
  await checkNewPerson(tx, tenantId, input.accountId, { email: input.email ?? null, phone: input.phone ?? null }, options.archivedTakePart ?? true);
  if (input.assigneeId) await requireAssignableStaff(tx, tenantId, input.assigneeId);
  const id = input.id ?? randomUUID();
  let person: PersonRow;
  try {
    // SQL on whatever transaction the caller runs (the driver's own for POST /people): no Prisma
    // interactive transaction per person created (issue 19).
    [person] = await tx.$queryRawUnsafe<[PersonRow]>(
      `INSERT INTO person (id, tenant_id, kind, first_name, last_name, email, phone, account_id, role_key, version,
                           default_landing_page, daily_reminder, assignee_id, updated_at)
       VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8::uuid, $9, 1, $10, $11, $12::uuid, now())
       RETURNING ${PERSON_COLUMNS}`,
      id, tenantId, input.kind, input.firstName, input.lastName, input.email ?? null, input.phone ?? null, input.accountId, roleKey,
      input.defaultLandingPage ?? null, input.dailyReminder ?? false, input.kind === 'client' ? (input.assigneeId ?? null) : null,
    );
  } catch (error) {
    // The locks above make this rare (a caller passing its own id twice): the index still decides.
    if (isUniqueViolation(error)) throw conflict('a person with this id, e-mail or phone already exists in the tenant');
    throw error;
  }
  // The first membership, the events and the audit line: one statement (issue 19).
  const writes = new Writes();
  const p = (v: unknown) => writes.param(v);
  writes.add('member', `INSERT INTO membership (tenant_id, person_id, account_id, role_key)
    VALUES (${p(tenantId)}::uuid, ${p(id)}::uuid, ${p(input.accountId)}::uuid, ${p(roleKey)}) RETURNING 1`);
  stageEventsWith(writes, tx, [
    eventFor('directory', {
      type: 'user.created', subject: id, tenantId, subjectVersion: 1,
      data: {
        personId: id, kind: input.kind, firstName: person.firstName, lastName: person.lastName, email: person.email,
        phone: person.phone, dailyReminder: person.dailyReminder, accountId: input.accountId, roleKey, actor,
      },
    }),
    ...(person.assigneeId ? [eventFor('directory', {
      type: 'client.assigned', subject: id, tenantId, subjectVersion: 1, data: { clientId: id, staffId: person.assigneeId, actor },
    })] : []),
  ]);
  recordAuditWith(writes, [{
    tenantId, actor, action: 'person.created', subjectId: id, accountIds: [input.accountId],
    detail: { kind: input.kind, roleKey, firstName: person.firstName, lastName: person.lastName, assigneeId: person.assigneeId },
  }]);
  await writes.run(tx);
  return person;
}

async function roleForKind(tx: SqlTx, tenantId: string, kind: PersonKind, roleKey: string | undefined): Promise<string> {
  if (kind === 'client') {
    if (roleKey !== undefined && roleKey !== 'client') throw badRequest(`a client holds the role client, not ${roleKey}`);
    return 'client';
  }
  const key = roleKey ?? 'staff';
  if (key === 'client') throw badRequest('the role client is for clients; give a staff member a staff role');
  if (!isBuiltInRole(key) && !(await findRole(tx, tenantId, key))) throw unknownReference('role', [key]);
  return key;
}

/** The person table's `phone_key` (digits only, null when none) of the parameter $3. */
const PHONE_KEY_OF_3 = "NULLIF(regexp_replace($3, '[^0-9]', '', 'g'), '')";

/**
 * Who holds the e-mail $2 or phone $3 in tenant $1 (but not person $4; archived people only when
 * $5): four index lookups, not one OR. Each branch's condition matches one partial index (the
 * unique ones hold people not archived, 20261206010000's the archived), so the check reads a
 * handful of rows whatever the size of the tenant (with the OR it read all of them).
 */
const CONTACT_HOLDER_SQL = `SELECT id::text, status, email_match FROM (
       SELECT id, status, created_at, true AS email_match FROM person
        WHERE tenant_id = $1::uuid AND email_key = lower($2) AND status <> 'archived'
       UNION ALL
       SELECT id, status, created_at, coalesce(email_key = lower($2), false) FROM person
        WHERE tenant_id = $1::uuid AND phone_key = ${PHONE_KEY_OF_3} AND status <> 'archived'
       UNION ALL
       SELECT id, status, created_at, true FROM person
        WHERE $5 AND tenant_id = $1::uuid AND email_key = lower($2) AND status = 'archived'
       UNION ALL
       SELECT id, status, created_at, coalesce(email_key = lower($2), false) FROM person
        WHERE $5 AND tenant_id = $1::uuid AND phone_key = ${PHONE_KEY_OF_3} AND status = 'archived'
     ) AS holder WHERE ($4::uuid IS NULL OR id <> $4::uuid)
     ORDER BY (status = 'archived'), created_at, email_match DESC LIMIT 1`;

interface ContactHolder { id: string; status: string; email_match: boolean }
type Contact = { email: string | null; phone: string | null };

/**
 * Two requests with the same e-mail or phone wait for each other here (until the first commits),
 * so the second sees the first's person and gets the 409 naming it, not a unique-index error. A
 * statement of its own: the check that follows must take its snapshot after the lock.
 */
async function lockContacts(tx: SqlTx, tenantId: string, contact: Contact): Promise<void> {
  const phoneDigits = contact.phone?.replace(/[^0-9]/g, '');
  const keys = [
    ...(contact.email ? [`email:${tenantId}:${contact.email.toLowerCase()}`] : []),
    ...(phoneDigits ? [`phone:${tenantId}:${phoneDigits}`] : []),
  ];
  if (keys.length === 0) return;
  await tx.$queryRawUnsafe('SELECT count(pg_advisory_xact_lock(k))::int AS n FROM (SELECT hashtextextended(x, 3) AS k FROM unnest($1::text[]) AS x ORDER BY 1) AS t', keys);
}

function refuseHeldContact(existing: ContactHolder | null | undefined): void {
  if (!existing) return;
  const field = existing.email_match ? 'email' : 'phone';
  throw conflict(`a person with this ${field} already exists in the tenant (${existing.id}); add a membership to them instead`, {
    existingPersonId: existing.id, existingStatus: existing.status, field,
    addMembership: { method: 'PUT', href: `/people/${existing.id}/access`, body: { grants: [{ accountId: '<account id>', roleKey: '<role key>' }] } },
  });
}

/**
 * 409 naming the existing person when the e-mail or phone already identifies someone in the tenant
 * (P8). Archived people hold their e-mail and phone for the people API (the answer offers to bring
 * them back) unless `archivedTakePart` is false: a SCIM User deleted (archived) takes no part in
 * conflicts (RFC 7644 §3.6), and the unique indexes leave archived people out.
 */
export async function refuseDuplicates(
  tx: SqlTx, tenantId: string, contact: Contact, exceptPersonId?: string, archivedTakePart = true,
): Promise<void> {
  if (!contact.email && !contact.phone) return;
  await lockContacts(tx, tenantId, contact);
  const [existing] = await tx.$queryRawUnsafe<ContactHolder[]>(CONTACT_HOLDER_SQL, tenantId, contact.email, contact.phone, exceptPersonId ?? null, archivedTakePart);
  refuseHeldContact(existing);
}

/**
 * A new person's account and contacts: 400 for an account not in the tenant, then `refuseDuplicates`'
 * 409 — the account read with the contacts' holder, after their lock (one round trip fewer, issue 19).
 */
async function checkNewPerson(tx: SqlTx, tenantId: string, accountId: string, contact: Contact, archivedTakePart: boolean): Promise<void> {
  await lockContacts(tx, tenantId, contact);
  const [checked] = await tx.$queryRawUnsafe<{ account_known: boolean; holder: ContactHolder | null }[]>(
    `SELECT EXISTS (SELECT 1 FROM account WHERE id = $6::uuid AND tenant_id = $1::uuid) AS account_known,
            (SELECT row_to_json(h) FROM (${CONTACT_HOLDER_SQL}) AS h) AS holder`,
    tenantId, contact.email, contact.phone, null, archivedTakePart, accountId,
  );
  if (!checked?.account_known) throw unknownReference('account', [accountId]);
  refuseHeldContact(checked.holder);
}

export async function requireAssignableStaff(tx: SqlTx, tenantId: string, staffId: string): Promise<void> {
  const [staff] = await tx.$queryRawUnsafe<{ kind: string; status: string }[]>('SELECT kind, status FROM person WHERE id = $1::uuid AND tenant_id = $2::uuid', staffId, tenantId);
  if (!staff) throw unknownReference('person', [staffId]);
  if (staff.kind !== 'staff') throw badRequest(`${staffId} is a client; clients are assigned to staff members`);
  if (staff.status !== 'active') throw conflict(`the staff member ${staffId} is ${staff.status}; assign the client to an active one`, { state: staff.status });
}

const isUniqueViolation = (error: unknown): boolean => {
  const e = error as { code?: string; cause?: { code?: string }; message?: string };
  return e?.code === 'P2002' || e?.code === '23505' || e?.cause?.code === '23505' || /unique constraint/i.test(e?.message ?? '');
};

export interface ProfileChange {
  firstName?: string | undefined;
  lastName?: string | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
  defaultLandingPage?: string | null | undefined;
  dailyReminder?: boolean | undefined;
}

/** P1: changes a person's profile; announced with `user.updated` at the next version. Archived people are read-only. */
export async function updatePerson(tx: DirectoryTx, tenantId: string, personId: string, change: ProfileChange, actor: Actor): Promise<PersonRow> {
  const person = await lockPerson(tx, tenantId, personId);
  if (person.status === 'archived') throw conflict('the person is archived: restore them before editing', { state: person.status });
  const email = change.email === undefined ? person.email : change.email;
  const phone = change.phone === undefined ? person.phone : change.phone;
  await refuseDuplicates(tx, tenantId, {
    email: change.email === undefined ? null : email, phone: change.phone === undefined ? null : phone,
  }, personId);
  const version = person.version + 1;
  const updated = await tx.person.update({
    where: { id: personId },
    data: {
      firstName: change.firstName ?? person.firstName, lastName: change.lastName ?? person.lastName, email, phone,
      defaultLandingPage: change.defaultLandingPage === undefined ? person.defaultLandingPage : change.defaultLandingPage,
      dailyReminder: change.dailyReminder ?? person.dailyReminder, version,
    },
  });
  await stageEvents(tx, [eventFor('directory', {
    type: 'user.updated', subject: personId, tenantId, subjectVersion: version,
    data: {
      personId, kind: updated.kind as PersonKind, firstName: updated.firstName, lastName: updated.lastName,
      email: updated.email, phone: updated.phone, dailyReminder: updated.dailyReminder, actor,
    },
  })]);
  const { accountIds } = await roleKeysOf(tx, personId);
  await recordAudit(tx, { tenantId, actor, action: 'person.updated', subjectId: personId, accountIds, detail: { changed: Object.keys(change) } });
  return updated;
}

export interface LifecycleRequest {
  command: LifecycleCommand;
  reason?: string | undefined;
  dryRun?: boolean | undefined;
}

/**
 * P5, P6 and B1: changes a person's status and starts the cascade, or (dry run) asks every service
 * what the cascade would do, changing nothing. Either way an operation records the cascade; its id
 * is the correlation id of every event the cascade causes, so `GET /operations/{id}` can follow it.
 * `check` runs on the locked person before anything changes (authorization by the caller's reach).
 */
export async function changeLifecycle(
  db: TransactionRunner<SqlTx>, tenantId: string, personId: string, request: LifecycleRequest, actor: Actor,
  check?: (tx: SqlTx, person: LockedPerson) => Promise<void>,
): Promise<{ operationId: string; events: readonly RosterEvent[] }> {
  const operationId = randomUUID();
  const work = { correlationId: operationId, causationId: currentWork()?.correlationId, tenantId };
  const events: RosterEvent[] = [];
  await runInWork(work, () =>
    db.$transaction(async (tx) => {
      const person = await lockPersonRow(tx, tenantId, personId);
      if (check) await check(tx, person);
      const action = request.command.type;
      const { roleKeys, accountIds } = await roleKeysOf(tx, personId);
      if (request.dryRun) {
        if (!previewable(action)) throw badRequest(`dryRun previews a deactivation or an archive; ${action} has nothing to preview`);
        decideLifecycle({ status: person.status as PersonStatus, version: person.version }, request.command);
        const preview = eventFor('directory', {
          type: 'cascade.preview_requested', subject: personId, tenantId,
          data: { action, personId, kind: person.kind as PersonKind, roleKeys },
        });
        const writes = startOperationWith(new Writes(), { id: operationId, tenantId, kind: `${action}:preview`, subjectId: personId, dryRun: true, events: [preview] });
        stageEventsWith(writes, tx, [preview]);
        await writes.run(tx);
        return;
      }
      const decision = decideLifecycle({ status: person.status as PersonStatus, version: person.version }, request.command);
      // Someone else may hold the e-mail or phone now (a SCIM User re-created after a delete): 409 before anything changes.
      if (action === 'restore') await refuseDuplicates(tx, tenantId, { email: person.email, phone: person.phone }, personId, false);
      const event = eventFor('directory', {
        type: decision.eventType, subject: personId, tenantId, subjectVersion: decision.next.version,
        data: { personId, kind: person.kind as PersonKind, roleKeys, reason: request.reason ?? null, actor },
      });
      // The change, its operation, its event and its audit line: one statement (issue 19); all or nothing.
      const writes = new Writes();
      const p = (v: unknown) => writes.param(v);
      writes.add('changed', `UPDATE person SET status = ${p(decision.next.status)}, version = ${p(decision.next.version)}, updated_at = now()
        WHERE id = ${p(personId)}::uuid AND tenant_id = ${p(tenantId)}::uuid AND version = ${p(person.version)} RETURNING 1`);
      startOperationWith(writes, { id: operationId, tenantId, kind: action, subjectId: personId, dryRun: false, events: [event] });
      stageEventsWith(writes, tx, [event]);
      recordAuditWith(writes, [{
        tenantId, actor, action: `person.${decision.next.status === 'active' ? (action === 'restore' ? 'restored' : 'reactivated') : action === 'archive' ? 'archived' : 'deactivated'}`,
        subjectId: personId, accountIds, operationId,
        detail: { from: person.status, to: decision.next.status, reason: request.reason ?? null, kind: person.kind, roleKeys },
      }]);
      // The row is locked above: only a writer that ignored the lock could have changed it; nothing is kept then.
      if ((await writes.run(tx)).changed !== 1) throw new Error('person changed concurrently; retry');
      events.push(event);
    }),
  );
  return { operationId, events };
}

/** What a lifecycle change reads of the person it locks. */
export interface LockedPerson { id: string; kind: string; status: string; version: number; email: string | null; phone: string | null }

/**
 * Locks the person's row for the transaction and reads what a lifecycle change needs, in one
 * statement on the driver's transaction (404 when not in the tenant).
 */
async function lockPersonRow(tx: SqlTx, tenantId: string, personId: string): Promise<LockedPerson> {
  const [person] = await tx.$queryRawUnsafe<LockedPerson[]>(
    'SELECT id::text, kind, status, version, email, phone FROM person WHERE id = $1::uuid AND tenant_id = $2::uuid FOR UPDATE', personId, tenantId,
  );
  if (!person) throw notFound(`person ${personId}`);
  return person;
}

/** Locks the person's row for the transaction (404 when not in the tenant). */
export async function lockPerson(tx: DirectoryTx, tenantId: string, personId: string): Promise<PersonRow> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM person WHERE id = ${personId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound(`person ${personId}`);
  return tx.person.findUniqueOrThrow({ where: { id: personId } });
}
