import { isEmailAddress, isPhoneNumber, PHONE_EXAMPLE } from '@roster/contracts';
import { invalidSyntax, invalidValue, mutability } from './errors.js';
import type { AttributeMap } from './filter-sql.js';
import type { ResourceShape } from './shape.js';

/**
 * How a SCIM User (RFC 7643 §4.1) maps onto a Roster person. Users are the tenant's staff (clients
 * are not provisioned by an identity provider); an archived person is a deleted User.
 *
 * | SCIM                                   | Roster                                             |
 * |----------------------------------------|----------------------------------------------------|
 * | id                                     | person id                                          |
 * | userName (unique per tenant, any case) | kept for SCIM; an unprovisioned person shows their e-mail (else phone, else id) |
 * | externalId                             | kept for SCIM                                      |
 * | name.givenName / name.familyName       | firstName / lastName (displayName, name.formatted: derived, read-only) |
 * | emails (primary, else type work, else first) | email (none given: userName when it is an e-mail) |
 * | phoneNumbers (primary, else mobile, else first) | phone                                      |
 * | active                                 | status active; false deactivates, true reactivates |
 * | groups (read-only)                     | the role keys held (see Groups)                    |
 * Other attributes (title, addresses, the enterprise extension …) are accepted and not stored.
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface UserRow {
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone: string | null;
  status: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  scim_user_name: string | null;
  external_id: string | null;
  scim_updated_at: Date | null;
  role_keys: string[] | null;
}

/** The SQL behind a User: `person p LEFT JOIN scim_user s` (see USER_COLUMNS). */
export const USER_NAME_SQL = `COALESCE(s.user_name, p.email, p.phone, p.id::text)`;
export const USER_COLUMNS = `
  p.id::text, p.first_name, p.last_name, p.email, p.phone, p.status, p.version, p.created_at, p.updated_at,
  s.user_name AS scim_user_name, s.external_id, s.updated_at AS scim_updated_at,
  (SELECT array_agg(DISTINCT m.role_key ORDER BY m.role_key) FROM membership m WHERE m.person_id = p.id) AS role_keys`;
export const USER_FROM = 'person p LEFT JOIN scim_user s ON s.person_id = p.id';
export const LAST_MODIFIED_SQL = 'GREATEST(p.updated_at, COALESCE(s.updated_at, p.updated_at))';

export const USER_FILTER_ATTRIBUTES: AttributeMap = {
  id: { expr: 'p.id::text', type: 'string', caseExact: true },
  externalid: { expr: 's.external_id', type: 'string', caseExact: true },
  username: { expr: USER_NAME_SQL, type: 'string', caseExact: false },
  'name.givenname': { expr: 'p.first_name', type: 'string', caseExact: false },
  'name.familyname': { expr: 'p.last_name', type: 'string', caseExact: false },
  'name.formatted': { expr: "(p.first_name || ' ' || p.last_name)", type: 'string', caseExact: false },
  displayname: { expr: "(p.first_name || ' ' || p.last_name)", type: 'string', caseExact: false },
  emails: { expr: 'p.email', type: 'string', caseExact: false },
  'emails.value': { expr: 'p.email', type: 'string', caseExact: false },
  'emails.type': { expr: "CASE WHEN p.email IS NOT NULL THEN 'work' END", type: 'string', caseExact: false },
  'emails.primary': { expr: 'CASE WHEN p.email IS NOT NULL THEN true END', type: 'boolean', caseExact: false },
  phonenumbers: { expr: 'p.phone', type: 'string', caseExact: false },
  'phonenumbers.value': { expr: 'p.phone', type: 'string', caseExact: false },
  'phonenumbers.type': { expr: "CASE WHEN p.phone IS NOT NULL THEN 'mobile' END", type: 'string', caseExact: false },
  'phonenumbers.primary': { expr: 'CASE WHEN p.phone IS NOT NULL THEN true END', type: 'boolean', caseExact: false },
  active: { expr: "(p.status = 'active')", type: 'boolean', caseExact: false },
  'meta.created': { expr: 'p.created_at', type: 'dateTime', caseExact: false },
  'meta.lastmodified': { expr: LAST_MODIFIED_SQL, type: 'dateTime', caseExact: false },
  'meta.resourcetype': { expr: "'User'", type: 'string', caseExact: true },
};

export type ScimUser = ReturnType<typeof userResource>;

export function userResource(row: UserRow, baseUrl: string) {
  const lastModified = row.scim_updated_at && row.scim_updated_at > row.updated_at ? row.scim_updated_at : row.updated_at;
  const displayName = `${row.first_name} ${row.last_name}`;
  return {
    schemas: [USER_SCHEMA],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    userName: row.scim_user_name ?? row.email ?? row.phone ?? row.id,
    name: { givenName: row.first_name, familyName: row.last_name, formatted: displayName },
    displayName,
    // An empty multi-valued attribute is left out: RFC 7643 §2.5 makes it the same as unassigned.
    ...(row.email ? { emails: [{ value: row.email, type: 'work', primary: true }] } : {}),
    ...(row.phone ? { phoneNumbers: [{ value: row.phone, type: 'mobile', primary: true }] } : {}),
    active: row.status === 'active',
    ...(row.role_keys?.length ? { groups: row.role_keys.map((key) => ({ value: key, display: key, $ref: `${baseUrl}/Groups/${key}`, type: 'direct' })) } : {}),
    meta: {
      resourceType: 'User',
      created: new Date(row.created_at).toISOString(),
      lastModified: new Date(lastModified).toISOString(),
      location: `${baseUrl}/Users/${row.id}`,
      version: `W/"${row.version}-${new Date(lastModified).getTime()}"`,
    },
  };
}

/** What a SCIM client may set on a User, read from a POST/PUT body or a patched resource. */
export interface UserModel {
  userName: string;
  externalId: string | null;
  givenName: string;
  familyName: string;
  email: string | null;
  phone: string | null;
  active: boolean;
}


/** `active` as a boolean; some providers (Entra) send "True"/"False". */
export function booleanValue(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${what} must be true or false, not ${JSON.stringify(value)}`);
}

const lowerKeys = (o: Record<string, unknown>) => new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));

type MultiValue = { value?: unknown; type?: unknown; primary?: unknown };
function pick(list: unknown, what: string, preferredType: string): string | null {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list)) throw invalidValue(`${what} must be a list`);
  const items = list.map((item) => {
    if (typeof item !== 'object' || item === null) throw invalidValue(`each of ${what} must be an object with a value`);
    const m = lowerKeys(item as Record<string, unknown>);
    return { value: m.get('value'), type: m.get('type'), primary: m.get('primary') } as MultiValue;
  }).filter((i) => i.value !== undefined && i.value !== null && i.value !== '');
  const chosen = items.find((i) => i.primary === true || (typeof i.primary === 'string' && i.primary.toLowerCase() === 'true'))
    ?? items.find((i) => typeof i.type === 'string' && i.type.toLowerCase() === preferredType)
    ?? items[0];
  if (!chosen) return null;
  if (typeof chosen.value !== 'string') throw invalidValue(`${what}.value must be a string`);
  return chosen.value.trim();
}

const text = (value: unknown, what: string, max: number): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidValue(`${what} must be a string`);
  const t = value.trim();
  if (t.length > max) throw invalidValue(`${what} is longer than ${max} characters`);
  return t.length ? t : undefined;
};

/**
 * Reads the writable attributes of a User resource (attribute names in any case), refusing with
 * a SCIM 400 what cannot become a person: no userName, no name, a malformed e-mail or phone.
 */
export function userModelOf(resource: unknown): UserModel {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) throw invalidSyntax('the body must be a User object');
  const r = lowerKeys(resource as Record<string, unknown>);
  const userName = text(r.get('username'), 'userName', 256);
  if (!userName) throw invalidValue('userName is required');
  const nameValue = r.get('name');
  const name = nameValue && typeof nameValue === 'object' ? lowerKeys(nameValue as Record<string, unknown>) : new Map<string, unknown>();
  let givenName = text(name.get('givenname'), 'name.givenName', 100);
  let familyName = text(name.get('familyname'), 'name.familyName', 100);
  // Some providers send only a display name: split it rather than refuse the user.
  const whole = text(name.get('formatted'), 'name.formatted', 201) ?? text(r.get('displayname'), 'displayName', 201);
  if ((!givenName || !familyName) && whole) {
    const parts = whole.split(/\s+/);
    givenName ??= parts.length > 1 ? parts.slice(0, -1).join(' ') : parts[0]!;
    familyName ??= parts.length > 1 ? parts.at(-1)! : parts[0]!;
  }
  if (!givenName || !familyName) throw invalidValue('name.givenName and name.familyName are required (or a displayName to take them from)');
  let email = pick(r.get('emails'), 'emails', 'work');
  if (email === null && isEmailAddress(userName)) email = userName;
  if (email !== null && !isEmailAddress(email)) throw invalidValue(`"${email}" is not an e-mail address`);
  const phone = pick(r.get('phonenumbers'), 'phoneNumbers', 'mobile');
  if (phone !== null && !isPhoneNumber(phone)) throw invalidValue(`"${phone}" is not a phone number anyone can reach: give it in international form, such as ${PHONE_EXAMPLE}`);
  const externalId = text(r.get('externalid'), 'externalId', 256) ?? null;
  const active = r.has('active') && r.get('active') !== null ? booleanValue(r.get('active'), 'active') : true;
  return { userName, externalId, givenName, familyName, email, phone, active };
}

/** Attributes a client may never write (RFC 7643 mutability readOnly). */
export const READ_ONLY_USER_ATTRIBUTES = new Set(['id', 'meta', 'groups']);
export const refuseReadOnly = (attribute: string) => mutability(`${attribute} is read-only`);

/** What PATCH may touch on a User (patch.ts). */
export const USER_SHAPE: ResourceShape = {
  attributes: {
    username: 'userName', externalid: 'externalId', name: 'name', displayname: 'displayName',
    emails: 'emails', phonenumbers: 'phoneNumbers', active: 'active',
  },
  subAttributes: {
    givenname: 'givenName', familyname: 'familyName', formatted: 'formatted',
    value: 'value', type: 'type', primary: 'primary', display: 'display',
  },
  multiValued: new Set(['emails', 'phoneNumbers']),
  complex: new Set(['name']),
  readOnly: READ_ONLY_USER_ATTRIBUTES,
};
