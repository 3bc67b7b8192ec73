import type { DirectoryDb } from '../db/client.js';
import { grantAccess, revokeAccess } from '../memberships/access.js';
import { isBuiltInRole } from '@roster/contracts';
import { defineRole } from '../roles/commands.js';
import { rolesByKey, type RoleView } from '../roles/definitions.js';
import { requireRoleWithinRank, requireWithinRank } from './rank.js';
import { invalidValue, mutability, ScimError, scimNotFound } from './errors.js';
import { matchesFilter } from './filter-memory.js';
import { parseFilter } from './filter.js';
import { applyPatch, type PatchOperation } from './patch.js';
import type { ResourceShape } from './shape.js';
import { SCIM_ACTOR, type ScimClient } from './tokens.js';
import { asScimError } from './users.js';
import { GROUP_SCHEMA, LIST_SCHEMA } from './user.js';

/**
 * B3: SCIM Groups are Roster's roles, one Group per role key (built-in and the tenant's custom
 * roles; `client` is left out: clients are not Users). `id` is the role key, `displayName` the
 * role's name; the members are the (non-archived) staff holding the role in any account.
 * Adding a member gives them the role in the SCIM token's account (P4, `access.granted`, or
 * `role.changed` when they held another role there: one role per account); removing a member
 * removes every membership in which they hold that role (`access.revoked`). A Group created through
 * SCIM is a new custom role without permissions (`createGroup`); Groups are not renamed or deleted
 * through SCIM: roles are changed in Roster (`PATCH /roles/{key}`).
 */
export interface Member { value: string; display: string }

const GROUP_SHAPE: ResourceShape = {
  attributes: { displayname: 'displayName', members: 'members' },
  subAttributes: { value: 'value', display: 'display', $ref: '$ref', type: 'type' },
  multiValued: new Set(['members']),
  complex: new Set(),
  readOnly: new Set(['id', 'meta', 'externalid']),
};

async function groupRoles(db: DirectoryDb, tenantId: string): Promise<RoleView[]> {
  return [...(await rolesByKey(db, tenantId)).values()].filter((r) => r.key !== 'client');
}

async function membersOf(db: DirectoryDb, tenantId: string, keys: readonly string[]): Promise<Map<string, Member[]>> {
  const rows = await db.$queryRawUnsafe<{ role_key: string; id: string; first_name: string; last_name: string }[]>(
    `SELECT DISTINCT m.role_key, p.id::text, p.first_name, p.last_name, p.created_at FROM membership m JOIN person p ON p.id = m.person_id
     WHERE m.tenant_id = $1::uuid AND m.role_key = ANY($2::text[]) AND p.tenant_id = $1::uuid AND p.kind = 'staff' AND p.status <> 'archived'
     ORDER BY p.created_at, p.id::text`,
    tenantId, keys,
  );
  const out = new Map<string, Member[]>(keys.map((k) => [k, []]));
  for (const r of rows) out.get(r.role_key)?.push({ value: r.id, display: `${r.first_name} ${r.last_name}` });
  return out;
}

function groupResource(role: RoleView, members: Member[] | undefined, baseUrl: string) {
  return {
    schemas: [GROUP_SCHEMA],
    id: role.key,
    displayName: role.name,
    ...(members ? { members: members.map((m) => ({ ...m, $ref: `${baseUrl}/Users/${m.value}`, type: 'User' })) } : {}),
    meta: { resourceType: 'Group', location: `${baseUrl}/Groups/${role.key}` },
  };
}
export type ScimGroup = ReturnType<typeof groupResource>;

export async function listGroups(
  db: DirectoryDb, client: ScimClient, page: { startIndex: number; count: number; filter?: string | undefined; withMembers: boolean }, baseUrl: string,
) {
  const filter = page.filter ? parseFilter(page.filter) : null;
  let roles = await groupRoles(db, client.tenantId);
  const members = page.withMembers || /members/i.test(page.filter ?? '') ? await membersOf(db, client.tenantId, roles.map((r) => r.key)) : null;
  if (filter) roles = roles.filter((r) => matchesFilter(groupResource(r, members?.get(r.key) ?? [], baseUrl), filter));
  const slice = roles.slice(page.startIndex - 1, page.startIndex - 1 + page.count);
  return {
    schemas: [LIST_SCHEMA], totalResults: roles.length, startIndex: page.startIndex, itemsPerPage: slice.length,
    Resources: slice.map((r) => groupResource(r, page.withMembers ? members!.get(r.key) : undefined, baseUrl)),
  };
}

async function findGroup(db: DirectoryDb, tenantId: string, id: string): Promise<RoleView> {
  const role = (await groupRoles(db, tenantId)).find((r) => r.key === id);
  if (!role) throw scimNotFound(`Group ${id}`);
  return role;
}

export async function getGroup(db: DirectoryDb, client: ScimClient, id: string, withMembers: boolean, baseUrl: string): Promise<ScimGroup> {
  const role = await findGroup(db, client.tenantId, id);
  return groupResource(role, withMembers ? (await membersOf(db, client.tenantId, [role.key])).get(role.key) : undefined, baseUrl);
}

/**
 * PATCH and PUT on a Group: the new member list is compared with the current one; the
 * differences become memberships granted or revoked, each an operation of its own.
 */
async function changeMembers(db: DirectoryDb, client: ScimClient, role: RoleView, before: Member[], after: unknown, displayName: unknown): Promise<string[]> {
  if (displayName !== undefined && displayName !== role.name) throw mutability(`Group ${role.key} is the role "${role.name}": roles are renamed in Roster, not through SCIM`);
  if (after !== undefined && !Array.isArray(after)) throw invalidValue('members must be a list');
  const wanted = new Set(((after ?? []) as unknown[]).map((m) => {
    const value = typeof m === 'object' && m !== null ? (m as { value?: unknown }).value : undefined;
    if (typeof value !== 'string') throw invalidValue('each member needs a value: a User id');
    return value.toLowerCase();
  }));
  const had = new Set(before.map((m) => m.value));
  const added = [...wanted].filter((id) => !had.has(id));
  const removed = [...had].filter((id) => !wanted.has(id));
  if (added.length + removed.length > 0) {
    requireRoleWithinRank(client, role);
    await requireWithinRank(db, client, [...added, ...removed]);
  }
  const operations: string[] = [];
  try {
    if (added.length) {
      const known = await db.$queryRawUnsafe<{ id: string }[]>(
        `SELECT id::text FROM person WHERE tenant_id = $1::uuid AND kind = 'staff' AND status <> 'archived' AND id::text = ANY($2::text[])`,
        client.tenantId, added,
      );
      const unknown = added.filter((id) => !known.some((k) => k.id === id));
      if (unknown.length) throw invalidValue(`no User ${unknown.join(', ')}`);
      const grants = added.map((personId) => ({ personId, accountId: client.accountId, roleKey: role.key }));
      operations.push((await grantAccess(db, client.tenantId, grants, SCIM_ACTOR, { kind: 'scim.group' })).operationId);
    }
    for (const personId of removed) {
      const held = await db.membership.findMany({ where: { tenantId: client.tenantId, personId, roleKey: role.key }, select: { accountId: true } });
      for (const m of held) operations.push((await revokeAccess(db, client.tenantId, personId, m.accountId, SCIM_ACTOR)).operationId);
    }
  } catch (error) {
    throw asScimError(error);
  }
  return operations;
}

export async function patchGroup(db: DirectoryDb, client: ScimClient, id: string, operations: PatchOperation[], baseUrl: string) {
  const role = await findGroup(db, client.tenantId, id);
  const before = (await membersOf(db, client.tenantId, [role.key])).get(role.key)!;
  const current = groupResource(role, before, baseUrl);
  const patched = applyPatch(current, operations, GROUP_SHAPE) as Record<string, unknown>;
  const ids = await changeMembers(db, client, role, before, patched.members ?? [], patched.displayName);
  return { group: await getGroup(db, client, id, true, baseUrl), operationIds: ids };
}

export async function replaceGroup(db: DirectoryDb, client: ScimClient, id: string, body: unknown, baseUrl: string) {
  const role = await findGroup(db, client.tenantId, id);
  if (typeof body !== 'object' || body === null) throw invalidValue('the body must be a Group');
  const entries = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const before = (await membersOf(db, client.tenantId, [role.key])).get(role.key)!;
  const ids = await changeMembers(db, client, role, before, entries.get('members') ?? [], entries.get('displayname'));
  return { group: await getGroup(db, client, id, true, baseUrl), operationIds: ids };
}

/** A role key from a Group's displayName: `Night Shift (North)` → `night_shift_north`. */
export function roleKeyFor(displayName: string): string {
  const slug = displayName.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  const key = /^[a-z]/.test(slug) ? slug : `group_${slug}`;
  return key.slice(0, 56).replace(/_+$/, '') || 'group';
}

/**
 * POST /Groups (issue 16 item 9): identity providers push groups (Okta's "Push Groups", Entra's group
 * provisioning). A new Group becomes a custom role without permissions (rank 0, scope account):
 * an owner gives it permissions in Roster (`PATCH /roles/{key}`). Its key comes from the
 * displayName (numbered when taken); a Group of that displayName already existing is a 409
 * uniqueness, so the provider links to it instead. Members given with it join as on a PATCH.
 */
export async function createGroup(db: DirectoryDb, client: ScimClient, body: unknown, baseUrl: string) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidValue('the body must be a Group');
  const entries = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
  const displayName = entries.get('displayname');
  if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.trim().length > 100) {
    throw invalidValue('displayName is required: the name of the group (1 to 100 characters)');
  }
  const name = displayName.trim();
  const role = await db.$transaction(async (tx) => {
    // One Group creation per tenant at a time: two pushes of the same group get one role and a 409.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`scim-groups:${client.tenantId}`}, 0))`;
    const roles = [...(await rolesByKey(tx, client.tenantId)).values()];
    const same = roles.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (same) throw new ScimError(409, `a Group named "${name}" already exists: ${same.key}`, 'uniqueness');
    const base = roleKeyFor(name);
    const taken = new Set(roles.map((r) => r.key));
    let key = base;
    for (let n = 2; taken.has(key) || isBuiltInRole(key); n++) key = `${base}_${n}`;
    return defineRole(tx, client.tenantId, { key, name, permissions: [] }, SCIM_ACTOR, client.issuerRank);
  }).catch((error: unknown) => { throw asScimError(error); });
  const operationIds = entries.has('members') ? await changeMembers(db, client, role, [], entries.get('members'), undefined) : [];
  return { group: await getGroup(db, client, role.key, true, baseUrl), operationIds };
}

export const groupsAreRoles = () =>
  new ScimError(403, 'Groups are Roster roles: a Group is deleted in Roster (its role), not through SCIM');
