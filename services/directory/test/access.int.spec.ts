import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startDirectory, type DirectoryUnderTest } from './support/directory.js';

// P4, B4: memberships in bulk, both ways, each an operation whose status follows every event's step.
describe('directory: access to accounts in bulk (Postgres)', () => {
  let d: DirectoryUnderTest;
  beforeAll(async () => {
    d = await startDirectory('roster_dir_access');
  });
  afterAll(async () => d?.stop());

  const setup = async () => {
    const t = await d.tenant();
    const branches: string[] = [];
    for (const name of ['North', 'South', 'East']) branches.push((await d.call(t.owner, 'POST', '/accounts', { name, kind: 'branch' })).body.id);
    const staff = (await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'Sam', lastName: 'Sitter', accountId: t.rootAccountId })).body.id as string;
    return { t, branches, staff };
  };

  it('one staff member into many accounts (one role for all): access.granted per membership, correlated with the operation', async () => {
    const { t, branches, staff } = await setup();
    const from = await d.mark();
    const res = await d.call(t.owner, 'PUT', `/people/${staff}/access`, { roleKey: 'manager', grants: branches.map((accountId) => ({ accountId })) });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { operationId } = res.body;
    const events = await d.eventsSince(from, 'access.granted', 'role.changed');
    assert.equal(events.length, 3);
    for (const e of events) {
      assert.ok(e.type === 'access.granted');
      assert.equal(e.correlationid, operationId);
      assert.equal(e.data.roleKey, 'manager');
      assert.equal(e.data.grantsToPerson, 3, 'each says how many the person gets in this operation: one notice for all (P4)');
      assert.equal(e.subjectversion, 1, "the person's current version: memberships do not bump it");
    }
    assert.deepEqual(events.map((e) => (e.type === 'access.granted' ? e.data.accountId : null)).sort(), [...branches].sort());
    const person = await d.call(t.owner, 'GET', `/people/${staff}`);
    assert.deepEqual(person.body.roleKeys.sort(), ['manager', 'staff']);

    // B4: pending until identity (the catalogue's expected service) handled all three.
    let op = await d.call(t.owner, 'GET', `/operations/${operationId}`);
    assert.deepEqual([op.body.status, op.body.progress], ['pending', { identity: { reported: 0, expected: 3 } }]);
    await d.step(events[0]!, 'identity');
    await d.step(events[1]!, 'identity');
    await waitFor('two steps', async () => (await d.call(t.owner, 'GET', `/operations/${operationId}`)).body.progress.identity.reported === 2);
    op = await d.call(t.owner, 'GET', `/operations/${operationId}`);
    assert.equal(op.body.status, 'pending', 'two of three steps is not completed');
    await d.step(events[2]!, 'identity');
    op = await waitFor('completed', async () => {
      const r = await d.call(t.owner, 'GET', `/operations/${operationId}`);
      return r.body.status === 'completed' ? r : null;
    });
    assert.deepEqual(op.body.steps.map((s: { service: string; events: number; counts: unknown }) => [s.service, s.events, s.counts]), [['identity', 3, { things: 3 }]]);
    // P9: each step's system audit line is in the trail of its membership's account, not of every account the person has.
    for (const e of events) {
      const accountId = e.type === 'access.granted' ? e.data.accountId : '';
      assert.equal(await d.count("SELECT 1 FROM audit_entry WHERE operation_id = $1::uuid AND actor_kind = 'system' AND account_ids = ARRAY[$2::uuid]", operationId, accountId), 1, accountId);
    }
  });

  it('a role per account, then a changed role: role.changed with notBefore; the same role again changes nothing', async () => {
    const { t, branches, staff } = await setup();
    await d.call(t.owner, 'PUT', `/people/${staff}/access`, { grants: [{ accountId: branches[0], roleKey: 'standard' }, { accountId: branches[1], roleKey: 'supervisor' }] });
    const from = await d.mark();
    const res = await d.call(t.owner, 'PUT', `/people/${staff}/access`, { grants: [{ accountId: branches[0], roleKey: 'manager' }, { accountId: branches[1], roleKey: 'supervisor' }] });
    assert.equal(res.status, 202);
    assert.deepEqual([res.body.granted, res.body.changed, res.body.unchanged], [0, 1, 1]);
    const events = await d.eventsSince(from, 'access.granted', 'role.changed');
    assert.equal(events.length, 1);
    const [changed] = events;
    assert.ok(changed?.type === 'role.changed');
    assert.deepEqual([changed.data.accountId, changed.data.fromRoleKey, changed.data.toRoleKey], [branches[0], 'standard', 'manager']);
    assert.ok(Date.parse(changed.data.notBefore) <= Date.now());
  });

  it('many staff members into one account, and removing access: access.revoked with notBefore', async () => {
    const { t, branches } = await setup();
    const people: string[] = [];
    for (let i = 0; i < 3; i++) people.push((await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: `S${i}`, lastName: 'Many', accountId: t.rootAccountId })).body.id);
    const from = await d.mark();
    const res = await d.call(t.owner, 'PUT', `/accounts/${branches[2]}/access`, { roleKey: 'staff', grants: people.map((personId) => ({ personId })) });
    assert.equal(res.status, 202);
    const granted = await d.eventsSince(from, 'access.granted');
    assert.deepEqual(granted.map((e) => e.subject).sort(), [...people].sort());
    assert.deepEqual(granted.map((e) => (e.type === 'access.granted' ? e.data.grantsToPerson : null)), [1, 1, 1], 'one membership each');
    const mark = await d.mark();
    const removed = await d.call(t.owner, 'DELETE', `/people/${people[0]}/access/${branches[2]}`);
    assert.equal(removed.status, 202);
    const [revoked] = await d.eventsSince(mark, 'access.revoked');
    assert.ok(revoked?.type === 'access.revoked');
    assert.deepEqual([revoked.subject, revoked.data.accountId, revoked.data.roleKey, revoked.correlationid], [people[0], branches[2], 'staff', removed.body.operationId]);
    const op = await d.call(t.owner, 'GET', `/operations/${removed.body.operationId}`);
    assert.deepEqual(op.body.expected, ['identity', 'notifications']);
    assert.equal((await d.call(t.owner, 'DELETE', `/people/${people[0]}/access/${branches[2]}`)).status, 404, 'already removed');
  });

  it('refuses, changing nothing and emitting nothing: oversize lists (saying the cap), unknown accounts, roles or people, duplicates, a client given a staff role, an archived person', async () => {
    const { t, branches, staff } = await setup();
    const client = (await d.call(t.owner, 'POST', '/people', { kind: 'client', firstName: 'C', lastName: 'Lient', accountId: t.rootAccountId })).body.id;
    const archived = (await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'A', lastName: 'Rchived', accountId: t.rootAccountId })).body.id;
    await d.call(t.owner, 'POST', `/people/${archived}/archive`, {});
    const from = await d.mark();
    const memberships = () => d.count('SELECT 1 FROM membership WHERE tenant_id = $1::uuid', t.tenantId);
    const before = await memberships();
    const oversize = await d.call(t.owner, 'PUT', `/people/${staff}/access`, { roleKey: 'staff', grants: Array.from({ length: 1001 }, () => ({ accountId: randomUUID() })) });
    assert.equal(oversize.status, 400);
    assert.match(oversize.body.detail, /at most 1000/);
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', `/people/${staff}/access`, { grants: [{ accountId: branches[0], roleKey: 'staff' }, { accountId: randomUUID(), roleKey: 'staff' }] }, 400, 'unknown-account'],
      ['PUT', `/people/${staff}/access`, { grants: [{ accountId: branches[0], roleKey: 'wizard' }] }, 400, 'unknown-role'],
      ['PUT', `/people/${staff}/access`, { grants: [{ accountId: branches[0] }] }, 400, 'bad-request'],
      ['PUT', `/people/${staff}/access`, { roleKey: 'staff', grants: [{ accountId: branches[0] }, { accountId: branches[0] }] }, 400, 'bad-request'],
      ['PUT', `/people/${client}/access`, { grants: [{ accountId: branches[0], roleKey: 'manager' }] }, 400, 'bad-request'],
      ['PUT', `/people/${archived}/access`, { grants: [{ accountId: branches[0], roleKey: 'staff' }] }, 409, 'conflict'],
      ['PUT', `/people/${randomUUID()}/access`, { grants: [{ accountId: branches[0], roleKey: 'staff' }] }, 404, 'not-found'],
      ['PUT', `/accounts/${randomUUID()}/access`, { grants: [{ personId: staff, roleKey: 'staff' }] }, 404, 'not-found'],
      ['PUT', `/accounts/${branches[0]}/access`, { roleKey: 'staff', grants: [{ personId: staff }, { personId: randomUUID() }] }, 400, 'unknown-person'],
      ['PUT', `/accounts/${branches[0]}/access`, { grants: [] }, 400, 'validation'],
    ];
    for (const [method, path, body, status, slug] of cases) {
      const res = await d.call(t.owner, method, path, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.type, `https://roster.dev/problems/${slug}`, JSON.stringify(res.body));
    }
    assert.equal(await memberships(), before);
    assert.deepEqual(await d.eventsSince(from), []);
    assert.equal(await d.count('SELECT 1 FROM operation WHERE tenant_id = $1::uuid AND kind LIKE $2', t.tenantId, 'access.%'), 0);
  });
  it('P2: custom roles are validated against the permission catalogue, announced with role.defined, and can be granted', async () => {
    const { t, branches, staff } = await setup();
    const from = await d.mark();
    const bad = await d.call(t.owner, 'POST', '/roles', { key: 'groomer', name: 'Groomer', permissions: ['visits.read_own', 'teleport'] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.unknownPermissions, ['teleport']);
    assert.equal((await d.call(t.owner, 'POST', '/roles', { key: 'manager', name: 'Mine', permissions: [] })).status, 409, 'built-in keys are taken');
    const created = await d.call(t.owner, 'POST', '/roles', { key: 'groomer', name: 'Groomer', permissions: ['visits.read_own', 'visits.complete_own', 'people.read'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([created.body.rank, created.body.scope, created.body.builtIn], [20, 'account', false], 'covers staff: ranks as staff');
    assert.equal((await d.call(t.owner, 'POST', '/roles', { key: 'groomer', name: 'Again', permissions: [] })).status, 409);
    const changed = await d.call(t.owner, 'PATCH', '/roles/groomer', { name: 'Senior groomer', permissions: ['visits.read_own'] });
    assert.deepEqual([changed.status, changed.body.name, changed.body.permissions], [200, 'Senior groomer', ['visits.read_own']]);
    assert.equal((await d.call(t.owner, 'PATCH', '/roles/owner', { name: 'Boss' })).status, 409);
    assert.equal((await d.call(t.owner, 'PATCH', '/roles/nobody', { name: 'X' })).status, 404);
    const defined = await d.eventsSince(from, 'role.defined');
    assert.deepEqual(defined.map((e) => (e.type === 'role.defined' ? [e.subject, e.data.name, e.data.permissions.length] : null)), [['groomer', 'Groomer', 3], ['groomer', 'Senior groomer', 1]]);
    const roles = await d.call(t.owner, 'GET', '/roles');
    assert.ok(roles.body.items.some((r: { key: string }) => r.key === 'groomer'));
    assert.ok(roles.body.items.some((r: { key: string; builtIn: boolean }) => r.key === 'owner' && r.builtIn));
    assert.equal((await d.call(t.owner, 'PUT', `/people/${staff}/access`, { grants: [{ accountId: branches[0], roleKey: 'groomer' }] })).status, 202);
    const person = await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'Gro', lastName: 'Omer', accountId: branches[1], roleKey: 'groomer' });
    assert.deepEqual(person.body.roleKeys, ['groomer']);
    const other = await d.tenant('Other');
    assert.equal((await d.call(other.owner, 'POST', '/people', { kind: 'staff', firstName: 'X', lastName: 'Y', accountId: other.rootAccountId, roleKey: 'groomer' })).status, 400, "another tenant's role is unknown here");
  });
  it('P4, P9: a larger list (written to the outbox in one statement) lands whole: one event and one audit entry per membership, in order', async () => {
    const { t, staff } = await setup();
    const accounts: string[] = [];
    for (let i = 0; i < 30; i++) accounts.push((await d.call(t.owner, 'POST', '/accounts', { name: `Client ${i}`, kind: 'client_account' })).body.id);
    const from = await d.mark();
    const res = await d.call(t.owner, 'PUT', `/people/${staff}/access`, { roleKey: 'standard', grants: accounts.map((accountId) => ({ accountId })) });
    assert.equal(res.status, 202);
    const events = await d.eventsSince(from, 'access.granted');
    assert.deepEqual(events.map((e) => (e.type === 'access.granted' ? e.data.accountId : null)), accounts, 'published in the order of the request');
    assert.ok(events.every((e) => e.correlationid === res.body.operationId));
    const audited = await d.count("SELECT 1 FROM audit_entry WHERE operation_id = $1::uuid AND action = 'access.granted' AND actor_person_id = $2", res.body.operationId, t.ownerId);
    assert.equal(audited, 30);
    const op = await d.call(t.owner, 'GET', `/operations/${res.body.operationId}`);
    assert.deepEqual(op.body.progress, { identity: { reported: 0, expected: 30 } });
  });
});
