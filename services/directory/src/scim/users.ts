import { DomainError } from '@roster/platform/errors';
// SCIM answers in HTTP statuses of its own (RFC 7644 §3.12): the kit's mapping keeps them the same as problem+json's.
import { statusOf } from '@roster/platform/http/problem';
import type { DirectoryDb, DirectoryTx } from '../db/client.js';
import { changeLifecycle, createPersonInTx, updatePerson, type ProfileChange } from '../people/commands.js';
import type { LifecycleAction } from '../people/person.js';
import { invalidValue, ScimError, scimNotFound } from './errors.js';
import { filterToSql } from './filter-sql.js';
import { parseFilter } from './filter.js';
import { applyPatch, type PatchOperation } from './patch.js';
import { requireWithinRank } from './rank.js';
import { SCIM_ACTOR, type ScimClient } from './tokens.js';
import {
  LIST_SCHEMA, USER_COLUMNS, USER_FILTER_ATTRIBUTES, USER_FROM, USER_NAME_SQL, USER_SHAPE, userModelOf, userResource,
  type ScimUser, type UserModel, type UserRow,
} from './user.js';

/** B3: SCIM Users over the directory's people (see user.ts for the mapping). */
export const MAX_PAGE = 200;

// SCIM sees the tenant's staff that are not archived (an archived person is a deleted User).
const USERS_OF_TENANT = "p.tenant_id = $1::uuid AND p.kind = 'staff' AND p.status <> 'archived'";

export interface UserPage { startIndex: number; count: number; filter?: string | undefined }

export async function listUsers(db: DirectoryDb, client: ScimClient, page: UserPage, baseUrl: string) {
  const params: unknown[] = [client.tenantId];
  const where = page.filter ? `${USERS_OF_TENANT} AND ${filterToSql(parseFilter(page.filter), USER_FILTER_ATTRIBUTES, params)}` : USERS_OF_TENANT;
  const [{ total }] = await db.$queryRawUnsafe<[{ total: number }]>(`SELECT count(*)::int AS total FROM ${USER_FROM} WHERE ${where}`, ...params);
  const rows = page.count === 0 ? [] : await db.$queryRawUnsafe<UserRow[]>(
    `SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE ${where} ORDER BY p.created_at, p.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
    ...params, page.startIndex - 1, page.count,
  );
  return {
    schemas: [LIST_SCHEMA], totalResults: total, startIndex: page.startIndex, itemsPerPage: rows.length,
    Resources: rows.map((r) => userResource(r, baseUrl)),
  };
}

async function readUser(db: DirectoryDb | DirectoryTx, tenantId: string, id: string): Promise<UserRow | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const rows = await db.$queryRawUnsafe<UserRow[]>(`SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE ${USERS_OF_TENANT} AND p.id = $2::uuid`, tenantId, id);
  return rows[0] ?? null;
}

export async function getUser(db: DirectoryDb, client: ScimClient, id: string, baseUrl: string): Promise<ScimUser> {
  const row = await readUser(db, client.tenantId, id);
  if (!row) throw scimNotFound(`User ${id}`);
  return userResource(row, baseUrl);
}

/**
 * SCIM writes of one tenant take turns (a transaction-scoped advisory lock): a provider retrying a
 * POST while the first is in flight gets a clean 409 uniqueness, not a unique-index failure.
 */
async function lockTenantUserNames(tx: DirectoryTx, tenantId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`scim:${tenantId}`}, 0))`;
}

/** userName is unique per tenant whatever its case; an unprovisioned person's userName is their e-mail (or phone). */
async function refuseTakenUserName(tx: DirectoryTx, tenantId: string, userName: string, exceptId?: string): Promise<void> {
  const taken = await tx.$queryRawUnsafe<{ id: string }[]>(
    `SELECT p.id::text FROM ${USER_FROM} WHERE p.tenant_id = $1::uuid AND p.status <> 'archived' AND lower(${USER_NAME_SQL}) = lower($2)
       AND ($3::uuid IS NULL OR p.id <> $3::uuid) LIMIT 1`,
    tenantId, userName, exceptId ?? null,
  );
  if (taken[0]) throw new ScimError(409, `userName "${userName}" is already taken by User ${taken[0].id}`, 'uniqueness');
}

/** Roster's 4xx problems (a duplicate e-mail, an unknown role …) in SCIM's words. */
export function asScimError(error: unknown): unknown {
  // Two identical requests at once: the unique indexes (userName, e-mail, phone) decide.
  if (isUniqueViolation(error)) return new ScimError(409, 'a User with this userName, e-mail or phone was created at the same time', 'uniqueness');
  if (!(error instanceof DomainError) || !error.isRefusal) return error;
  const detail = error.detail ?? error.title;
  if (error.kind === 'conflict') return new ScimError(409, detail, error.extensions.existingPersonId ? 'uniqueness' : undefined);
  if (error.kind === 'invalid') return invalidValue(detail);
  return new ScimError(statusOf(error), detail);
}

const isUniqueViolation = (error: unknown): boolean => {
  const e = error as { code?: string; cause?: { code?: string }; message?: string } | null;
  return e?.code === 'P2002' || e?.code === '23505' || e?.cause?.code === '23505' || /unique constraint|duplicate key/i.test(e?.message ?? '');
};

async function storeScimAttributes(tx: DirectoryTx, tenantId: string, personId: string, model: UserModel): Promise<void> {
  await tx.scimUser.upsert({
    where: { personId },
    create: { personId, tenantId, userName: model.userName, userNameKey: model.userName.toLowerCase(), externalId: model.externalId },
    update: { userName: model.userName, userNameKey: model.userName.toLowerCase(), externalId: model.externalId },
  });
}

export interface UserChange { user: ScimUser; operationId: string | null }

async function lifecycle(db: DirectoryDb, tenantId: string, personId: string, action: LifecycleAction): Promise<string> {
  return (await changeLifecycle(db, tenantId, personId, { command: { type: action }, reason: 'SCIM provisioning' }, SCIM_ACTOR)).operationId;
}

/** POST /Users: a staff member in the token's account with the token's role (an inactive one is deactivated at once). */
export async function createUser(db: DirectoryDb, client: ScimClient, body: unknown, baseUrl: string): Promise<UserChange> {
  const model = userModelOf(body);
  const personId = await db.$transaction(async (tx) => {
    await lockTenantUserNames(tx, client.tenantId);
    await refuseTakenUserName(tx, client.tenantId, model.userName);
    // A deleted (archived) User takes no part in conflicts (RFC 7644 §3.6): a new one may take its
    // userName, e-mail and phone; the archived person keeps its history, and can be restored only
    // while nobody else holds them.
    const person = await createPersonInTx(tx, client.tenantId, {
      kind: 'staff', firstName: model.givenName, lastName: model.familyName, email: model.email, phone: model.phone,
      accountId: client.accountId, roleKey: client.roleKey,
    }, SCIM_ACTOR, { archivedTakePart: false });
    await tx.$executeRaw`
      DELETE FROM scim_user s USING person p
       WHERE s.tenant_id = ${client.tenantId}::uuid AND s.user_name_key = ${model.userName.toLowerCase()}
         AND p.id = s.person_id AND p.status = 'archived'`;
    await storeScimAttributes(tx, client.tenantId, person.id, model);
    return person.id;
  }).catch((error: unknown) => { throw asScimError(error); });
  const operationId = model.active ? null : await lifecycle(db, client.tenantId, personId, 'deactivate');
  return { user: await getUser(db, client, personId, baseUrl), operationId };
}

/**
 * PUT and PATCH end here with the User's new attributes. The profile (and SCIM's userName and
 * externalId) change in one transaction; then, when `active` changed, the deactivation or
 * reactivation cascade runs as for `POST /people/{id}/deactivate|reactivate` and its operation
 * id is returned. Everything is validated before the first write.
 */
async function applyUserModel(db: DirectoryDb, client: ScimClient, current: UserRow, model: UserModel, baseUrl: string): Promise<UserChange> {
  const tenantId = client.tenantId;
  const change: ProfileChange = {};
  if (model.givenName !== current.first_name) change.firstName = model.givenName;
  if (model.familyName !== current.last_name) change.lastName = model.familyName;
  if (model.email !== current.email) change.email = model.email;
  if (model.phone !== current.phone) change.phone = model.phone;
  await db.$transaction(async (tx) => {
    await lockTenantUserNames(tx, tenantId);
    await refuseTakenUserName(tx, tenantId, model.userName, current.id);
    if (Object.keys(change).length > 0) await updatePerson(tx, tenantId, current.id, change, SCIM_ACTOR);
    if (model.userName !== current.scim_user_name || model.externalId !== current.external_id) {
      await storeScimAttributes(tx, tenantId, current.id, model);
    }
  }).catch((error: unknown) => { throw asScimError(error); });
  const wasActive = current.status === 'active';
  const operationId = model.active === wasActive ? null : await lifecycle(db, tenantId, current.id, model.active ? 'reactivate' : 'deactivate').catch((error: unknown) => { throw asScimError(error); });
  return { user: await getUser(db, client, current.id, baseUrl), operationId };
}

/** The User a change is about: 404 when the token's tenant has no such User, 403 above the token's rank. */
async function userToChange(db: DirectoryDb, client: ScimClient, id: string): Promise<UserRow> {
  const current = await readUser(db, client.tenantId, id);
  if (!current) throw scimNotFound(`User ${id}`);
  await requireWithinRank(db, client, [current.id]);
  return current;
}

export async function replaceUser(db: DirectoryDb, client: ScimClient, id: string, body: unknown, baseUrl: string): Promise<UserChange> {
  const current = await userToChange(db, client, id);
  const model = userModelOf(body);
  return applyUserModel(db, client, current, model, baseUrl);
}

export async function patchUser(db: DirectoryDb, client: ScimClient, id: string, operations: PatchOperation[], baseUrl: string): Promise<UserChange> {
  const current = await userToChange(db, client, id);
  const patched = applyPatch(userResource(current, baseUrl), operations, USER_SHAPE);
  return applyUserModel(db, client, current, userModelOf(patched), baseUrl);
}

/** DELETE /Users/{id}: the person is archived (P6), which runs the archive cascade. */
export async function deleteUser(db: DirectoryDb, client: ScimClient, id: string): Promise<string> {
  await userToChange(db, client, id);
  return lifecycle(db, client.tenantId, id, 'archive').catch((error: unknown) => { throw asScimError(error); });
}
