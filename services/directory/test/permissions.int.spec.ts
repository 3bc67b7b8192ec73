import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { BUILT_IN_ROLE_KEYS } from '@roster/contracts';
import { startDirectory, type DirectoryUnderTest, type Who } from './support/directory.js';

/**
 * P2, P3: every built-in role against every protected directory endpoint. The tenant: a root, a
 * branch North with an area North-East below it, a branch South. Each role is held in North,
 * except owner and admin (root) and supervisor (the area). Targets: a sitter in North, a client
 * of North assigned to the salesperson, one unassigned, a sitter in the area.
 */
describe('directory: permission matrix (P2, P3, Postgres)', () => {
  let d: DirectoryUnderTest;
  let t: Awaited<ReturnType<DirectoryUnderTest['tenant']>>;
  const ids: Record<string, string> = {};
  const as: Record<string, Who> = {};
  beforeAll(async () => {
    d = await startDirectory('roster_dir_matrix');
    t = await d.tenant('Matrix');
    const account = async (name: string, kind: string, parentId?: string) => (await d.call(t.owner, 'POST', '/accounts', { name, kind, parentId })).body.id as string;
    ids.north = await account('North', 'branch');
    ids.area = await account('North-East', 'area', ids.north);
    ids.south = await account('South', 'branch');
    const person = async (kind: string, firstName: string, accountId: string, roleKey?: string) => {
      const res = await d.call(t.owner, 'POST', '/people', { kind, firstName, lastName: 'Matrix', accountId, roleKey });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    for (const role of BUILT_IN_ROLE_KEYS.filter((r) => r !== 'owner')) {
      const where = role === 'admin' ? t.rootAccountId : role === 'supervisor' ? ids.area : ids.north;
      ids[role] = await person(role === 'client' ? 'client' : 'staff', role, where!, role === 'client' ? undefined : role);
      as[role] = { tenantId: t.tenantId, personId: ids[role]!, roles: [role] };
    }
    as.owner = t.owner;
    ids.sitter = await person('staff', 'Sitter', ids.north!, 'staff');
    ids.areaSitter = await person('staff', 'AreaSitter', ids.area!, 'staff');
    ids.southSitter = await person('staff', 'SouthSitter', ids.south!, 'staff');
    ids.assignedClient = await person('client', 'Assigned', ids.north!);
    ids.otherClient = await person('client', 'Unassigned', ids.north!);
    assert.equal((await d.call(t.owner, 'PUT', `/clients/${ids.assignedClient}/assignee`, { staffId: ids.salesperson })).status, 200);
    ids.operation = (await d.call(t.owner, 'POST', `/people/${ids.southSitter}/deactivate`, { dryRun: true })).body.operationId;
    assert.equal((await d.call(t.owner, 'POST', '/roles', { key: 'walker', name: 'Walker', permissions: ['visits.read_own'] })).status, 201);
  });
  afterAll(async () => d?.stop());

  type Endpoint = [name: string, call: (who: Who) => Promise<number>];
  const status = (p: Promise<{ status: number }>) => p.then((r) => r.status);
  const endpoints: Endpoint[] = [
    ['POST /accounts', (w) => status(d.call(w, 'POST', '/accounts', { name: 'New', kind: 'area', parentId: ids.north }))],
    ['POST /people', (w) => status(d.call(w, 'POST', '/people', { kind: 'client', firstName: 'New', lastName: 'Client', accountId: ids.north }))],
    ['GET /people/{sitter}', (w) => status(d.call(w, 'GET', `/people/${ids.sitter}`))],
    ['PATCH /people/{sitter}', (w) => status(d.call(w, 'PATCH', `/people/${ids.sitter}`, { firstName: 'Sitter' }))],
    ['POST /people/{sitter}/deactivate', (w) => status(d.call(w, 'POST', `/people/${ids.sitter}/deactivate`, { dryRun: true }))],
    ['POST /people/{sitter}/archive', (w) => status(d.call(w, 'POST', `/people/${ids.sitter}/archive`, { dryRun: true }))],
    ['PUT /people/{sitter}/access', (w) => status(d.call(w, 'PUT', `/people/${ids.sitter}/access`, { grants: [{ accountId: ids.north, roleKey: 'staff' }] }))],
    ['PUT /accounts/{north}/access', (w) => status(d.call(w, 'PUT', `/accounts/${ids.north}/access`, { roleKey: 'staff', grants: [{ personId: ids.sitter }] }))],
    ['DELETE /people/{sitter}/access/{south}', (w) => status(d.call(w, 'DELETE', `/people/${ids.sitter}/access/${ids.south}`))],
    ['POST /roles', (w) => status(d.call(w, 'POST', '/roles', { key: `r_${randomUUID().slice(0, 8)}`, name: 'Viewer', permissions: ['people.read'] }))],
    ['PATCH /roles/{key}', (w) => status(d.call(w, 'PATCH', '/roles/walker', { name: 'Dog walker' }))],
    ['PUT /clients/{unassigned}/assignee', (w) => status(d.call(w, 'PUT', `/clients/${ids.otherClient}/assignee`, { staffId: ids.manager }))],
    ['GET /audit', (w) => status(d.call(w, 'GET', `/audit?accountId=${ids.north}`))],
    ['GET /operations/{id}', (w) => status(d.call(w, 'GET', `/operations/${ids.operation}`))],
  ];
  // Expected answers, in the order of `endpoints`.
  const all = [201, 201, 200, 200, 202, 202, 202, 202, 404, 201, 200, 200, 200, 200];
  const expected: Record<string, number[]> = {
    owner: all,
    admin: all,
    manager: [201, 201, 200, 200, 202, 403, 202, 202, 404, 403, 403, 200, 200, 200],
    standard: [403, 201, 200, 200, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200],
    // The sitter is in North, outside the supervisor's area: not even visible.
    supervisor: [403, 403, 404, 404, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200],
    // The sitter is not one of the salesperson's assigned clients.
    salesperson: [403, 201, 404, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
    staff: [403, 403, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
    client: [403, 403, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
  };

  for (const role of BUILT_IN_ROLE_KEYS) {
    it(`${role}: every protected endpoint answers as its permissions and reach say`, async () => {
      const got: number[] = [];
      for (const [, call] of endpoints) got.push(await call(as[role]!));
      assert.deepEqual(Object.fromEntries(endpoints.map(([n], i) => [n, got[i]])), Object.fromEntries(endpoints.map(([n], i) => [n, expected[role]![i]])));
    });
  }

  it('P3: a salesperson sees only the clients assigned to them, in lists and lookups; their new clients are theirs', async () => {
    const list = await d.call(as.salesperson!, 'GET', '/people?kind=client&limit=100');
    const names = list.body.items.map((p: { firstName: string }) => p.firstName);
    assert.ok(names.includes('Assigned'));
    assert.ok(!names.includes('Unassigned'));
    assert.ok(list.body.items.every((p: { assigneeId: string }) => p.assigneeId === ids.salesperson));
    assert.equal((await d.call(as.salesperson!, 'GET', `/people/${ids.otherClient}`)).status, 404);
    assert.equal((await d.call(as.salesperson!, 'GET', `/people/${ids.assignedClient}`)).status, 200);
    assert.equal((await d.call(as.salesperson!, 'GET', '/people?q=unassigned')).body.items.length, 0);
    assert.equal((await d.call(as.salesperson!, 'PATCH', `/people/${ids.assignedClient}`, { lastName: 'Matrix' })).status, 200);
  });

  it('P3: a supervisor acts only on people in their own areas', async () => {
    assert.equal((await d.call(as.supervisor!, 'PATCH', `/people/${ids.areaSitter}`, { lastName: 'Matrix' })).status, 200);
    const list = await d.call(as.supervisor!, 'GET', '/people?kind=staff&limit=100');
    const names = list.body.items.map((p: { firstName: string }) => p.firstName).sort();
    assert.deepEqual(names, ['AreaSitter', 'supervisor']);
    assert.equal((await d.call(as.supervisor!, 'POST', '/people', { kind: 'client', firstName: 'Area', lastName: 'Client', accountId: ids.area })).status, 201);
  });

  it('P2: a role held on a branch reaches its sub-accounts, not its siblings; nobody grants a role above their own', async () => {
    const manager = as.manager!;
    assert.equal((await d.call(manager, 'GET', `/people/${ids.areaSitter}`)).status, 200, 'North reaches North-East');
    assert.equal((await d.call(manager, 'GET', `/people/${ids.southSitter}`)).status, 404, 'North does not reach South');
    const south = await d.call(manager, 'PUT', `/people/${ids.sitter}/access`, { grants: [{ accountId: ids.south, roleKey: 'staff' }] });
    assert.equal(south.status, 403);
    const promote = await d.call(manager, 'PUT', `/people/${ids.sitter}/access`, { grants: [{ accountId: ids.north, roleKey: 'admin' }] });
    assert.equal(promote.status, 403);
    assert.match(promote.body.detail, /ranks above/);
    assert.equal((await d.call(manager, 'POST', `/people/${ids.admin}/deactivate`, {})).status, 404, 'the admin holds root: outside North');
    const accounts = await d.call(manager, 'GET', '/accounts');
    assert.deepEqual(accounts.body.items.map((a: { name: string }) => a.name).filter((n: string) => n !== 'New'), ['North', 'North-East']);
    const memberships = await d.count('SELECT 1 FROM membership WHERE person_id = $1::uuid', ids.sitter);
    assert.equal(memberships, 1, 'the refused grants changed nothing');
  });

  it('everyone reads their own profile and sets their own preferences, nothing more', async () => {
    for (const role of ['staff', 'client'] as const) {
      const me = as[role]!;
      assert.equal((await d.call(me, 'GET', `/people/${me.personId}`)).status, 200);
      const prefs = await d.call(me, 'PATCH', `/people/${me.personId}`, { dailyReminder: true, defaultLandingPage: '/my-visits' });
      assert.deepEqual([prefs.status, prefs.body.dailyReminder, prefs.body.defaultLandingPage], [200, true, '/my-visits']);
      assert.equal((await d.call(me, 'PATCH', `/people/${me.personId}`, { lastName: 'Renamed' })).status, 403);
      assert.equal((await d.call(me, 'GET', '/people')).body.items.length, 1, 'a list shows them only themselves');
    }
  });

  it('B5: an impersonated action is audited under both people', async () => {
    const acting: Who = { ...as.manager!, impersonatorId: t.ownerId };
    assert.equal((await d.call(acting, 'PATCH', `/people/${ids.sitter}`, { lastName: 'Impersonated' })).status, 200);
    const trail = await d.call(t.owner, 'GET', `/audit?subjectId=${ids.sitter}`);
    const entry = trail.body.items.find((e: { detail: { changed?: string[] } }) => e.detail.changed?.includes('lastName'));
    assert.deepEqual(entry.actor, { kind: 'person', personId: ids.manager, impersonatorId: t.ownerId });
  });
});
