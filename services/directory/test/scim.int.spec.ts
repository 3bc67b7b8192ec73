import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { filter as referenceFilter, parse as referenceParse } from 'scim2-parse-filter';
import type { EventEnvelope, EventOf } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { startService, type RunningService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { createAccount } from '../src/accounts/accounts.js';
import type { DirectoryDb } from '../src/db/client.js';
import { createPersonInTx } from '../src/people/commands.js';
import { readPerson } from '../src/people/view.js';
import { directoryService } from '../src/service.js';
import { provisionTenant } from '../src/tenants/provision.js';

const OPERATOR = { kind: 'operator', personId: null, impersonatorId: null } as const;
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// B3 through HTTP on Postgres: a tenant's identity provider provisions its staff.
describe('SCIM 2.0 provisioning (B3, directory on Postgres)', () => {
  const tokens = testTokens();
  const bus = new MemoryBus();
  const seen: EventEnvelope[] = [];
  let database: TestDatabase;
  let directory: RunningService<DirectoryDb>;
  let db: DirectoryDb;

  beforeAll(async () => {
    database = await createTestDatabase('roster_scim');
    directory = await startService(directoryService, {
      bus, env: { ...tokens.env, PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: 'silent' },
    });
    db = directory.ctx.prisma;
    await bus.subscribe({
      group: 'probe', types: ['user.created', 'user.updated', 'user.deactivated', 'user.reactivated', 'user.archived', 'access.granted', 'access.revoked', 'role.changed', 'role.defined'],
      handler: async (e) => void seen.push(e),
    });
  });
  afterAll(async () => {
    await directory?.stop();
    await database?.drop();
  });

  const http = async (method: string, path: string, headers: Record<string, string>, body?: unknown, type = 'application/scim+json') => {
    const res = await fetch(`${directory.url}${path}`, {
      method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, type: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : null) as Json };
  };

  /** A tenant with a branch, its owner's bearer and a SCIM token landing people in the branch as staff. */
  async function tenant() {
    const t = await provisionTenant(db, { name: 'Walkies', owner: { firstName: 'Olga', lastName: 'Owner', email: `owner-${randomUUID()}@walkies.example` } });
    const branch = await db.$transaction((tx) => createAccount(tx, t.tenantId, { name: 'Central', kind: 'branch', parentId: t.rootAccountId }, OPERATOR));
    const owner = tokens.bearer({ tenantId: t.tenantId, personId: t.ownerId, roles: ['owner'] });
    const issued = await http('POST', '/scim-tokens', owner, { name: 'Okta', accountId: branch.id }, 'application/json');
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const scim = { authorization: `Bearer ${issued.body.token as string}` };
    const call = (method: string, path: string, body?: unknown) => http(method, `/scim/v2${path}`, scim, body);
    return { ...t, branch: branch.id, owner, token: issued.body as Json, scim, call };
  }
  const createUser = async (t: Awaited<ReturnType<typeof tenant>>, user: Json) => {
    const res = await t.call('POST', '/Users', { schemas: [CORE], ...user });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const eventOf = <T extends EventEnvelope>(type: string, subject: string) =>
    waitFor(`${type} about ${subject}`, () => seen.find((e) => e.type === type && e.subject === subject) as T | undefined);

  describe('tokens', () => {
    it('B3: an owner issues a token shown once and kept as its SHA-256; a revoked token is refused at once', async () => {
      const t = await tenant();
      assert.match(t.token.token, /^scim_[A-Za-z0-9_-]{43}$/);
      const row = await db.scimToken.findUniqueOrThrow({ where: { id: t.token.id } });
      assert.equal(row.tokenHash, createHash('sha256').update(t.token.token).digest('hex'));
      assert.ok(!JSON.stringify(row).includes(t.token.token));
      const listed = await http('GET', '/scim-tokens', t.owner);
      assert.deepEqual(listed.body.items.map((i: Json) => [i.id, i.token, i.roleKey, i.accountId]), [[t.token.id, undefined, 'staff', t.branch]]);
      assert.equal((await t.call('GET', '/Users')).status, 200);
      assert.equal((await http('DELETE', `/scim-tokens/${t.token.id}`, t.owner)).status, 204);
      const refused = await t.call('GET', '/Users');
      assert.equal(refused.status, 401);
      assert.match(refused.type, /application\/scim\+json/);
      assert.deepEqual([refused.body.schemas, refused.body.status], [[ERROR], '401']);
      assert.equal(await db.auditEntry.count({ where: { tenantId: t.tenantId, action: { in: ['scim_token.issued', 'scim_token.revoked'] } } }), 2);
    });

    it('only an owner or an admin (tenant-wide) issues tokens; no token, a JWT or an unknown token is a SCIM 401', async () => {
      const t = await tenant();
      const manager = tokens.bearer({ tenantId: t.tenantId, roles: ['manager'] });
      const res = await http('POST', '/scim-tokens', manager, { name: 'x' }, 'application/json');
      assert.equal(res.status, 403);
      assert.match(res.type, /problem\+json/);
      // A custom role holding roles.manage in one branch: a token would reach every branch's staff.
      const hr = await http('POST', '/roles', t.owner, { key: 'branch_hr', name: 'Branch HR', permissions: ['roles.manage', 'people.read'] }, 'application/json');
      assert.equal(hr.status, 201, JSON.stringify(hr.body));
      const branchHr = tokens.bearer({ tenantId: t.tenantId, personId: randomUUID(), roles: ['branch_hr'], permissions: ['roles.manage', 'people.read'] });
      const byBranch = await http('POST', '/scim-tokens', branchHr, { name: 'x' }, 'application/json');
      assert.equal(byBranch.status, 403, JSON.stringify(byBranch.body));
      assert.match(byBranch.body.detail, /whole tenant/);
      assert.equal(await db.scimToken.count({ where: { tenantId: t.tenantId } }), 1, 'only the owner\'s token');
      const bad = await http('POST', '/scim-tokens', t.owner, { name: 'x', roleKey: 'client' }, 'application/json');
      assert.equal(bad.status, 400);
      for (const headers of [{}, t.owner, { authorization: 'Bearer scim_not-a-token' }]) {
        const r = await http('GET', '/scim/v2/Users', headers);
        assert.equal(r.status, 401);
        assert.equal(r.body.schemas[0], ERROR);
      }
      assert.equal((await http('DELETE', `/scim-tokens/${randomUUID()}`, t.owner)).status, 404);
    });
  });

  it('B3: discovery documents (ServiceProviderConfig, ResourceTypes, Schemas) in application/scim+json', async () => {
    const spc = await http('GET', '/scim/v2/ServiceProviderConfig', {});
    assert.equal(spc.status, 200);
    assert.match(spc.type, /^application\/scim\+json/);
    assert.deepEqual([spc.body.patch.supported, spc.body.filter.supported, spc.body.bulk.supported], [true, true, false]);
    const types = await http('GET', '/scim/v2/ResourceTypes', {});
    assert.deepEqual(types.body.Resources.map((r: Json) => [r.id, r.endpoint]), [['User', '/Users'], ['Group', '/Groups']]);
    const schemas = await http('GET', '/scim/v2/Schemas', {});
    assert.deepEqual(schemas.body.Resources.map((s: Json) => s.id), [CORE, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
    assert.equal((await http('GET', `/scim/v2/Schemas/${CORE}`, {})).body.name, 'User');
  });

  it('B3: Okta provisioning — lookup, create, update, deactivate (cascade with operation id), reactivate, delete (archive)', async () => {
    const t = await tenant();
    const lookup = await t.call('GET', `/Users?filter=${encodeURIComponent('userName eq "dora.walker@walkies.example"')}&startIndex=1&count=100`);
    assert.deepEqual([lookup.status, lookup.body.totalResults, lookup.body.Resources], [200, 0, []]);
    const created = await t.call('POST', '/Users', {
      schemas: [CORE], userName: 'dora.walker@walkies.example', name: { givenName: 'Dora', familyName: 'Walker' },
      emails: [{ primary: true, value: 'dora.walker@walkies.example', type: 'work' }], displayName: 'Dora Walker',
      locale: 'en-US', externalId: '00u1a2b3c4', groups: [], password: 'not-stored-1A!', active: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.type, /application\/scim\+json/);
    const id = created.body.id as string;
    assert.equal(created.headers.get('location'), created.body.meta.location);
    assert.deepEqual([created.body.userName, created.body.externalId, created.body.active, created.body.emails[0].value], ['dora.walker@walkies.example', '00u1a2b3c4', true, 'dora.walker@walkies.example']);
    const userCreated = await eventOf<EventOf<'user.created'>>('user.created', id);
    assert.deepEqual([userCreated.data.accountId, userCreated.data.roleKey, userCreated.data.actor.kind], [t.branch, 'staff', 'scim']);
    assert.ok(!JSON.stringify(userCreated).includes('not-stored-1A!'), 'a password sent by the provider goes nowhere');
    assert.equal((await t.call('GET', `/Users/${id}`)).body.name.familyName, 'Walker');

    const updated = await t.call('PUT', `/Users/${id}`, {
      schemas: [CORE], id, userName: 'dora.walker@walkies.example', name: { givenName: 'Dora', familyName: 'Runner' },
      emails: [{ primary: true, value: 'dora.runner@walkies.example', type: 'work' }], phoneNumbers: [{ value: '+44 7911 123777', type: 'mobile' }],
      externalId: '00u1a2b3c4', active: true,
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.headers.get('x-roster-operation-id'), null, 'no cascade for a profile change');
    const person = await readPerson(db, t.tenantId, id);
    assert.deepEqual([person!.lastName, person!.email, person!.phone], ['Runner', 'dora.runner@walkies.example', '+44 7911 123777']);
    await eventOf('user.updated', id);

    const off = await t.call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.active, false);
    const operationId = off.headers.get('x-roster-operation-id')!;
    const deactivated = await eventOf<EventOf<'user.deactivated'>>('user.deactivated', id);
    assert.equal(deactivated.correlationid, operationId, 'the cascade carries the operation id given back');
    assert.equal(deactivated.data.actor.kind, 'scim');
    assert.equal((await db.operation.findUniqueOrThrow({ where: { id: operationId } })).kind, 'deactivate');

    const on = await t.call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] });
    assert.equal(on.body.active, true);
    assert.ok(on.headers.get('x-roster-operation-id'));
    await eventOf('user.reactivated', id);

    const deleted = await t.call('DELETE', `/Users/${id}`);
    assert.equal(deleted.status, 204);
    const archived = await eventOf<EventOf<'user.archived'>>('user.archived', id);
    assert.equal(archived.correlationid, deleted.headers.get('x-roster-operation-id'));
    assert.equal((await readPerson(db, t.tenantId, id))!.status, 'archived');
    const gone = await t.call('GET', `/Users/${id}`);
    assert.deepEqual([gone.status, gone.body.status, gone.body.schemas], [404, '404', [ERROR]]);
    assert.equal((await t.call('GET', `/Users?filter=${encodeURIComponent('userName eq "dora.walker@walkies.example"')}`)).body.totalResults, 0);
  });

  it('B3: Entra ID provisioning — matches an existing person by userName, "Replace" with active "False"/"True", multi-operation updates, delete', async () => {
    const t = await tenant();
    const existing = await db.$transaction((tx) => createPersonInTx(tx, t.tenantId, {
      kind: 'staff', firstName: 'Eli', lastName: 'Existing', email: 'eli@walkies.example', accountId: t.branch, roleKey: 'staff',
    }, OPERATOR));
    const match = await t.call('GET', `/Users?filter=${encodeURIComponent('userName eq "ELI@walkies.example"')}`);
    assert.deepEqual(match.body.Resources.map((u: Json) => u.id), [existing.id], 'userName falls back to the e-mail, any case');

    const body = {
      schemas: [CORE, ENTERPRISE], externalId: 'f3a1-entra', userName: 'priya@walkies.example', active: true, displayName: 'Priya Patel',
      emails: [{ primary: true, type: 'work', value: 'priya@walkies.example' }], meta: { resourceType: 'User' },
      name: { formatted: 'Priya Patel', familyName: 'Patel', givenName: 'Priya' }, title: 'Groomer',
      [ENTERPRISE]: { department: 'Grooming', employeeNumber: '42' },
    };
    const created = await t.call('POST', '/Users', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const again = await t.call('POST', '/Users', body);
    assert.deepEqual([again.status, again.body.scimType], [409, 'uniqueness']);

    const off = await t.call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.active, false);
    assert.ok(off.headers.get('x-roster-operation-id'));
    await eventOf('user.deactivated', id);
    const on = await t.call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });
    assert.equal(on.body.active, true);
    await eventOf('user.reactivated', id);

    const changed = await t.call('PATCH', `/Users/${id}`, {
      schemas: [PATCH], Operations: [
        { op: 'Replace', path: 'displayName', value: 'Priya Shah' },
        { op: 'Replace', path: 'name.familyName', value: 'Shah' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'priya.shah@walkies.example' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 425 555 0101' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Walking' },
        { op: 'Replace', path: 'title', value: 'Walker' },
      ],
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.headers.get('x-roster-operation-id'), null);
    const person = await readPerson(db, t.tenantId, id);
    assert.deepEqual([person!.firstName, person!.lastName, person!.email, person!.phone, person!.status], ['Priya', 'Shah', 'priya.shah@walkies.example', '+1 425 555 0101', 'active']);

    assert.equal((await t.call('DELETE', `/Users/${id}`)).status, 204);
    assert.equal((await t.call('GET', `/Users/${id}`)).status, 404);
  });

  describe('listing', () => {
    let t: Awaited<ReturnType<typeof tenant>>;
    let all: Json[];
    beforeAll(async () => {
      t = await tenant();
      const people: Json[] = [
        { userName: 'alice@corp.example', name: { givenName: 'Alice', familyName: 'Smith' }, externalId: 'ext-1', phoneNumbers: [{ value: '+1 415 555 0001', type: 'mobile' }] },
        { userName: 'bob@corp.example', name: { givenName: 'Bob', familyName: 'Jones' }, emails: [{ value: 'bob@other.example', type: 'work' }] },
        { userName: 'carol', name: { givenName: 'Carol', familyName: 'Smith' }, externalId: 'ext-2', active: false },
        { userName: 'dan@corp.example', name: { givenName: 'Dan', familyName: 'Brown' }, phoneNumbers: [{ value: '+1 415 555 0004' }] },
        { userName: 'erin@corp.example', name: { givenName: 'Erin', familyName: 'Smithers' }, externalId: 'ext-3' },
      ];
      for (const p of people) await createUser(t, p);
      all = (await t.call('GET', '/Users')).body.Resources as Json[];
    });

    const filters = [
      'userName eq "alice@corp.example"', 'userName sw "b"', 'userName co "corp"', 'userName ew ".example"', 'userName gt "c"',
      'name.familyName eq "Smith"', 'name.givenName sw "B" or name.familyName eq "Jones"', 'name.familyName eq "Smith" and active eq true',
      'active eq false', 'active eq true and not (name.familyName sw "Smith")', 'externalId eq "ext-2"', 'externalId pr',
      'emails[type eq "work" and value co "corp"]', 'emails.value ew "other.example"', 'phoneNumbers pr', 'not (phoneNumbers pr)',
      'displayName co "Smith"', 'userName eq "alice@corp.example" or (active eq false and externalId sw "ext")',
      'meta.resourceType eq "User"',
    ];
    for (const f of filters) {
      it(`B3: ${f} selects what scim2-parse-filter's filter() selects`, async () => {
        const res = await t.call('GET', `/Users?filter=${encodeURIComponent(f)}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const expected = all.filter(referenceFilter(referenceParse(f))).map((u) => u.id).sort();
        assert.deepEqual(res.body.Resources.map((u: Json) => u.id).sort(), expected);
        assert.equal(res.body.totalResults, expected.length);
      });
    }

    it('B3: meta.created compares as a date-time', async () => {
      const third = all[2]!.meta.created as string;
      const res = await t.call('GET', `/Users?filter=${encodeURIComponent(`meta.created gt "${third}"`)}`);
      assert.deepEqual(res.body.Resources.map((u: Json) => u.id), all.slice(3).map((u) => u.id));
      // Issue 15: what JavaScript reads as a date but Postgres does not is a 400 invalidFilter, never a 500.
      for (const value of ['2', '2026', 'yesterday', '2026-13-45T99:00:00Z', '+275760-09-13T00:00:00Z']) {
        const bad = await t.call('GET', `/Users?filter=${encodeURIComponent(`meta.created gt "${value}"`)}`);
        assert.deepEqual([bad.status, bad.body.scimType], [400, 'invalidFilter'], value);
      }
      const offset = await t.call('GET', `/Users?filter=${encodeURIComponent('meta.lastModified ge "2000-01-01T00:00:00+02:00"')}`);
      assert.equal(offset.status, 200);
    });

    it('B3: userName and e-mail match in any case; id and externalId exactly', async () => {
      assert.equal((await t.call('GET', `/Users?filter=${encodeURIComponent('userName eq "ALICE@Corp.Example"')}`)).body.totalResults, 1);
      assert.equal((await t.call('GET', `/Users?filter=${encodeURIComponent('emails.value eq "BOB@OTHER.example"')}`)).body.totalResults, 1);
      assert.equal((await t.call('GET', `/Users?filter=${encodeURIComponent('externalId eq "EXT-1"')}`)).body.totalResults, 0);
    });

    it('B3: pages with startIndex (1-based) and count; count=0 gives only the total', async () => {
      const total = all.length;
      assert.equal(total, 6, 'five provisioned and the owner');
      const first = await t.call('GET', '/Users?startIndex=1&count=4');
      const second = await t.call('GET', '/Users?startIndex=5&count=4');
      assert.deepEqual([first.body.totalResults, first.body.itemsPerPage, first.body.startIndex], [total, 4, 1]);
      assert.deepEqual([second.body.itemsPerPage, second.body.startIndex], [2, 5]);
      assert.deepEqual([...first.body.Resources, ...second.body.Resources].map((u: Json) => u.id), all.map((u) => u.id));
      const none = await t.call('GET', '/Users?count=0');
      assert.deepEqual([none.body.totalResults, none.body.Resources], [total, []]);
      const projected = await t.call('GET', '/Users?count=1&attributes=userName');
      assert.deepEqual(Object.keys(projected.body.Resources[0]).sort(), ['id', 'schemas', 'userName']);
    });

    it("B3: another tenant's token sees none of these users", async () => {
      const other = await tenant();
      assert.equal((await other.call('GET', '/Users')).body.totalResults, 1, 'only its own owner');
      assert.equal((await other.call('GET', `/Users/${all[0]!.id}`)).status, 404);
      assert.equal((await other.call('PATCH', `/Users/${all[0]!.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] })).status, 404);
    });
  });

  describe('bad input: a SCIM error, nothing changed', () => {
    let t: Awaited<ReturnType<typeof tenant>>;
    let user: Json;
    beforeAll(async () => {
      t = await tenant();
      user = await createUser(t, { userName: 'fay@corp.example', name: { givenName: 'Fay', familyName: 'Fixed' } });
    });
    const unchanged = async (res: { status: number; type: string; body: Json }, status: number, scimType: string | undefined) => {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.type, /application\/scim\+json/);
      assert.deepEqual([res.body.schemas, res.body.status, res.body.scimType], [[ERROR], String(status), scimType]);
      const now = await t.call('GET', `/Users/${user.id}`);
      assert.deepEqual(now.body, { ...user, meta: { ...user.meta } });
    };

    it('a filter that does not parse, or on an attribute that cannot be filtered', async () => {
      await unchanged(await t.call('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
      await unchanged(await t.call('GET', `/Users?filter=${encodeURIComponent('title eq "x"')}`), 400, 'invalidFilter');
      await unchanged(await t.call('GET', `/Users?filter=${encodeURIComponent('active gt true')}`), 400, 'invalidFilter');
      await unchanged(await t.call('GET', '/Users?count=many'), 400, 'invalidValue');
    });
    it('a User without userName or name, or with a malformed e-mail', async () => {
      await unchanged(await t.call('POST', '/Users', { schemas: [CORE], name: { givenName: 'A', familyName: 'B' } }), 400, 'invalidValue');
      await unchanged(await t.call('POST', '/Users', { schemas: [CORE], userName: 'nameless' }), 400, 'invalidValue');
      await unchanged(await t.call('POST', '/Users', { schemas: [CORE], userName: 'x', name: { givenName: 'A', familyName: 'B' }, emails: [{ value: 'not-mail' }] }), 400, 'invalidValue');
    });
    it('a taken userName (any case) or an e-mail already used in the tenant', async () => {
      await unchanged(await t.call('POST', '/Users', { schemas: [CORE], userName: 'FAY@corp.example', name: { givenName: 'A', familyName: 'B' } }), 409, 'uniqueness');
      await unchanged(await t.call('POST', '/Users', { schemas: [CORE], userName: 'fay2', name: { givenName: 'A', familyName: 'B' }, emails: [{ value: 'fay@corp.example' }] }), 409, 'uniqueness');
    });
    it('the same User posted twice at once: one is created, the other is a 409 uniqueness', async () => {
      const body = { schemas: [CORE], userName: 'twin@corp.example', name: { givenName: 'Tw', familyName: 'In' } };
      const results = await Promise.all([t.call('POST', '/Users', body), t.call('POST', '/Users', body)]);
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 409]);
      assert.equal(results.find((r) => r.status === 409)!.body.scimType, 'uniqueness');
      assert.equal((await t.call('GET', `/Users?filter=${encodeURIComponent('userName eq "twin@corp.example"')}`)).body.totalResults, 1);
    });
    it('a PATCH whose last operation is bad applies none of them (atomic)', async () => {
      const res = await t.call('PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [
        { op: 'replace', path: 'name.givenName', value: 'Changed' }, { op: 'replace', path: 'active', value: false }, { op: 'replace', path: 'id', value: randomUUID() },
      ] });
      await unchanged(res, 400, 'mutability');
      await unchanged(await t.call('PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.givenName', value: 'X' }, { op: 'remove', path: 'userName' }] }), 400, 'invalidValue');
      await unchanged(await t.call('PATCH', `/Users/${user.id}`, { Operations: [{ op: 'replace', path: 'active', value: false }] }), 400, 'invalidSyntax');
      await unchanged(await t.call('PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: 'nope' }] }), 400, 'invalidValue');
    });
    it('an unknown User or endpoint', async () => {
      await unchanged(await t.call('GET', `/Users/${randomUUID()}`), 404, undefined);
      await unchanged(await t.call('DELETE', '/Users/not-an-id'), 404, undefined);
      await unchanged(await t.call('GET', '/Nothing'), 404, undefined);
    });
  });

  describe('Groups (roles)', () => {
    it('B3: a Group per role (no client), members are the people holding it; adding a member grants the role in the token\'s account, removing revokes it', async () => {
      const t = await tenant();
      const sam = await createUser(t, { userName: 'sam@corp.example', name: { givenName: 'Sam', familyName: 'Sitter' } });
      const groups = await t.call('GET', '/Groups?excludedAttributes=members');
      assert.equal(groups.status, 200);
      const ids = groups.body.Resources.map((g: Json) => g.id);
      assert.ok(ids.includes('manager') && ids.includes('staff') && !ids.includes('client'));
      assert.ok(groups.body.Resources.every((g: Json) => !('members' in g)));
      const staff = await t.call('GET', '/Groups/staff');
      assert.equal(staff.status, 200, JSON.stringify(staff.body));
      assert.deepEqual(staff.body.members.map((m: Json) => m.value), [sam.id]);
      const byName = await t.call('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Manager (dispatcher)"')}`);
      assert.deepEqual(byName.body.Resources.map((g: Json) => g.id), ['manager']);

      const added = await t.call('PATCH', '/Groups/manager', { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: sam.id }] }] });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.deepEqual(added.body.members.map((m: Json) => m.value), [sam.id]);
      assert.ok(added.headers.get('x-roster-operation-id'));
      const changed = await eventOf<EventOf<'role.changed'>>('role.changed', sam.id);
      assert.deepEqual([changed.data.accountId, changed.data.fromRoleKey, changed.data.toRoleKey], [t.branch, 'staff', 'manager']);
      assert.deepEqual((await t.call('GET', `/Users/${sam.id}`)).body.groups.map((g: Json) => g.value), ['manager']);

      const removed = await t.call('PATCH', '/Groups/manager', { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${sam.id}"]` }] });
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.body.members, []);
      await eventOf('access.revoked', sam.id);
      assert.deepEqual((await readPerson(db, t.tenantId, sam.id))!.memberships, []);

      // Entra removes with a value list rather than a filter.
      await t.call('PATCH', '/Groups/supervisor', { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: sam.id }] }] });
      assert.deepEqual((await t.call('GET', '/Groups/supervisor')).body.members.map((m: Json) => m.value), [sam.id]);
      const entraRemove = await t.call('PATCH', '/Groups/supervisor', { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ value: sam.id }] }] });
      assert.deepEqual(entraRemove.body.members, []);

      assert.equal((await t.call('PATCH', '/Groups/manager', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: randomUUID() }] }] })).body.scimType, 'invalidValue');
      assert.equal((await t.call('PATCH', '/Groups/manager', { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Boss' }] })).body.scimType, 'mutability');
      assert.equal((await t.call('DELETE', '/Groups/manager')).status, 403, 'roles are deleted in Roster');
      assert.equal((await t.call('GET', '/Groups/client')).status, 404);
    });

    it('issue 16 item 9: Push Groups — POST /Groups makes a custom role without permissions, with its members; the same name again is a 409 uniqueness', async () => {
      const t = await tenant();
      const sam = await createUser(t, { userName: `sam-${randomUUID()}@corp.example`, name: { givenName: 'Sam', familyName: 'Sitter' } });
      const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
      const res = await t.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Night Shift (North)', members: [{ value: sam.id }] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.id, 'night_shift_north');
      assert.equal(res.body.displayName, 'Night Shift (North)');
      assert.deepEqual(res.body.members.map((m: Json) => m.value), [sam.id]);
      assert.match(res.headers.get('location') ?? '', /\/Groups\/night_shift_north$/);
      const role = await db.role.findFirstOrThrow({ where: { tenantId: t.tenantId, key: 'night_shift_north' } });
      assert.deepEqual([role.permissions, role.rank], [[], 0], 'no permission until an owner gives some in Roster');
      await eventOf('role.defined', 'night_shift_north');
      assert.deepEqual((await t.call('GET', `/Users/${sam.id}`)).body.groups.map((g: Json) => g.value), ['night_shift_north']);

      const again = await t.call('POST', '/Groups', { schemas: [GROUP], displayName: 'night shift (north)' });
      assert.deepEqual([again.status, again.body.scimType], [409, 'uniqueness']);
      const other = await t.call('POST', '/Groups', { schemas: [GROUP], displayName: 'Night-Shift North!' });
      assert.equal(other.body.id, 'night_shift_north_2', 'a taken key is numbered');
      const bad = await t.call('POST', '/Groups', { schemas: [GROUP], displayName: '  ' });
      assert.deepEqual([bad.status, bad.body.scimType], [400, 'invalidValue']);
    });

    it('issue 16 item 9: a deleted User takes no part in conflicts (RFC 7644 §3.6): the same userName and e-mail make a new User; the archived one cannot be restored over it', async () => {
      const t = await tenant();
      const userName = `rehired-${randomUUID().slice(0, 6)}@corp.example`;
      const first = await createUser(t, { userName, name: { givenName: 'Rita', familyName: 'Rehire' }, emails: [{ value: userName, primary: true }], phoneNumbers: [{ value: '+44 20 7946 0321' }] });
      assert.equal((await t.call('DELETE', `/Users/${first.id}`)).status, 204);
      const second = await t.call('POST', '/Users', { schemas: [CORE], userName, name: { givenName: 'Rita', familyName: 'Rehire' }, emails: [{ value: userName, primary: true }], phoneNumbers: [{ value: '+44 20 7946 0321' }] });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.notEqual(second.body.id, first.id);
      assert.equal(second.body.userName, userName);
      const found = await t.call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      assert.deepEqual(found.body.Resources.map((u: Json) => u.id), [second.body.id]);
      // The people API: restoring the archived person would give the tenant two people with one e-mail.
      const restore = await http('POST', `/people/${first.id}/restore`, t.owner, {}, 'application/json');
      assert.equal(restore.status, 409, JSON.stringify(restore.body));
      assert.match(restore.body.detail, /a person with this email already exists/);
      assert.equal((await readPerson(db, t.tenantId, first.id))!.status, 'archived');
    });

    it('P2, L7: a token acts with at most its issuer\'s rank — an admin\'s token cannot make an owner, nor change, deactivate or delete one', async () => {
      const t = await tenant();
      const adminId = await db.$transaction(async (tx) => (await createPersonInTx(tx, t.tenantId, {
        kind: 'staff', firstName: 'Ada', lastName: 'Admin', email: `ada-${randomUUID()}@walkies.example`, accountId: t.rootAccountId, roleKey: 'admin',
      }, OPERATOR)).id);
      const admin = tokens.bearer({ tenantId: t.tenantId, personId: adminId, roles: ['admin'] });
      const issued = await http('POST', '/scim-tokens', admin, { name: 'Entra (by an admin)' }, 'application/json');
      assert.equal(issued.status, 201, JSON.stringify(issued.body));
      assert.deepEqual([issued.body.issuerRank, t.token.issuerRank], [90, 100]);
      const byAdmin = (method: string, path: string, body?: unknown) => http(method, `/scim/v2${path}`, { authorization: `Bearer ${issued.body.token as string}` }, body);
      const sam = await createUser(t, { userName: `sam-${randomUUID()}@corp.example`, name: { givenName: 'Sam', familyName: 'Sitter' } });
      const audit = () => db.auditEntry.count({ where: { tenantId: t.tenantId } });
      const auditBefore = await audit();

      const refused = [
        await byAdmin('PATCH', '/Groups/owner', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: adminId }] }] }),
        await byAdmin('PATCH', '/Groups/manager', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: t.ownerId }] }] }),
        await byAdmin('PATCH', `/Users/${t.ownerId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }),
        await byAdmin('PATCH', `/Users/${t.ownerId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.familyName', value: 'Gone' }] }),
        await byAdmin('DELETE', `/Users/${t.ownerId}`),
      ];
      assert.deepEqual(refused.map((r) => [r.status, r.body.schemas?.[0]]), refused.map(() => [403, ERROR]), JSON.stringify(refused.map((r) => r.body)));
      assert.match(refused[0]!.body.detail, /Group owner is a role ranked above the issuer/);
      assert.match(refused[2]!.body.detail, new RegExp(`User ${t.ownerId} holds the role owner`));
      const owner = (await readPerson(db, t.tenantId, t.ownerId))!;
      assert.deepEqual([owner.status, owner.lastName, owner.memberships.map((m) => m.roleKey)], ['active', 'Owner', ['owner']]);
      assert.deepEqual((await readPerson(db, t.tenantId, adminId))!.memberships.map((m) => m.roleKey), ['admin']);
      assert.equal(await audit(), auditBefore, 'nothing was written');

      // Within its rank the admin's token works as any other: staff and roles up to admin.
      const promoted = await byAdmin('PATCH', '/Groups/admin', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: sam.id }] }] });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      const deactivated = await byAdmin('PATCH', `/Users/${sam.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
      assert.equal(deactivated.status, 200, JSON.stringify(deactivated.body));
      // And the owner's token reaches the owner.
      const renamed = await t.call('PATCH', `/Users/${t.ownerId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.familyName', value: 'Owens' }] });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    });
  });
});
