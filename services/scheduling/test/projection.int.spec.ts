import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { recordAccessChanges } from '../src/people/projection.js';
import { hoursFromNow, manager, SchedulingHarness } from './support/harness.js';

const SYSTEM = { kind: 'system', personId: null, impersonatorId: null } as const;

// Rule 1: scheduling decides from its own projection of directory's events (memberships, the
// account tree, client assignments), order-proof (rule 3).
describe('what scheduling knows of people: memberships, areas, assignments (rule 1, P3; Postgres)', () => {
  const h = new SchedulingHarness();
  beforeAll(() => h.start('roster_projection'));
  afterAll(() => h.stop());

  const access = (type: 'access.granted' | 'access.revoked', tenantId: string, personId: string, accountId: string, time: Date, roleKey = 'staff') =>
    type === 'access.granted'
      ? createEvent('directory', { type, subject: personId, tenantId, correlationId: randomUUID(), time, data: { personId, accountId, roleKey, actor: SYSTEM } })
      : createEvent('directory', { type, subject: personId, tenantId, correlationId: randomUUID(), time, data: { personId, accountId, roleKey, notBefore: time.toISOString(), actor: SYSTEM } });
  const assign = (tenantId: string, clientId: string, sitterId: string) =>
    h.http('POST', '/visits', manager(tenantId), { clientId, sitterId, startsAt: hoursFromNow(10), endsAt: hoursFromNow(11) });

  it('a staff member whose every access was revoked cannot be given visits; a grant brings it back; an older grant arriving late changes nothing', async () => {
    const tenantId = randomUUID();
    const account = randomUUID();
    const client = h.personCreated(tenantId, 'client');
    const sitter = h.personCreated(tenantId, 'staff', { accountId: account });
    await h.feed(client, sitter);
    const t0 = Date.now();
    await h.feed(access('access.revoked', tenantId, sitter.data.personId, account, new Date(t0 + 1000)));
    const refused = await assign(tenantId, client.data.personId, sitter.data.personId);
    assert.equal(refused.status, 422);
    assert.equal(refused.body.type, 'https://roster.dev/problems/sitter-without-access');
    // A grant older than the revocation, delivered late: still no access.
    await h.feed(access('access.granted', tenantId, sitter.data.personId, account, new Date(t0 + 500)));
    assert.equal((await assign(tenantId, client.data.personId, sitter.data.personId)).status, 422);
    const other = randomUUID();
    await h.feed(access('access.granted', tenantId, sitter.data.personId, other, new Date(t0 + 2000)));
    assert.equal((await assign(tenantId, client.data.personId, sitter.data.personId)).status, 201);
  });

  it('P3: a supervisor sees the visits of clients in the areas (and sub-areas) they supervise, nothing else', async () => {
    const tenantId = randomUUID();
    const [root, area, subArea, elsewhere] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const account = (accountId: string, parentId: string | null, kind: 'root' | 'area') =>
      createEvent('directory', { type: 'account.created', subject: accountId, tenantId, correlationId: randomUUID(), data: { accountId, name: kind, kind, parentId, actor: SYSTEM } });
    await h.feed(account(root, null, 'root'), account(area, root, 'area'), account(subArea, area, 'area'), account(elsewhere, root, 'area'));
    const supervisor = h.personCreated(tenantId, 'staff', { accountId: area, roleKey: 'supervisor' });
    const sitter = h.personCreated(tenantId, 'staff', { accountId: root });
    const inSub = h.personCreated(tenantId, 'client', { accountId: subArea });
    const outside = h.personCreated(tenantId, 'client', { accountId: elsewhere });
    await h.feed(supervisor, sitter, inSub, outside);
    const mine = (await assign(tenantId, inSub.data.personId, sitter.data.personId)).body.id;
    await assign(tenantId, outside.data.personId, sitter.data.personId);
    const seen = await h.http('GET', '/visits', { tenantId, personId: supervisor.data.personId, roles: ['supervisor'] });
    assert.deepEqual(seen.body.items.map((v: { id: string }) => v.id), [mine]);
  });

  it('P3: a client reassigned to another salesperson leaves the first one\'s lists; an older assignment arriving late changes nothing', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const [first, second] = [randomUUID(), randomUUID()];
    const assigned = (staffId: string, time: Date) => createEvent('directory', {
      type: 'client.assigned', subject: clientId, tenantId, correlationId: randomUUID(), time, data: { clientId, staffId, actor: SYSTEM },
    });
    const visit = (await assign(tenantId, clientId, sitterId)).body.id;
    const t0 = Date.now();
    await h.feed(assigned(first, new Date(t0)));
    const sees = async (who: string) => (await h.http('GET', '/visits', { tenantId, personId: who, roles: ['salesperson'] })).body.items.map((v: { id: string }) => v.id);
    assert.deepEqual(await sees(first), [visit]);
    await h.feed(assigned(second, new Date(t0 + 2000)));
    await h.feed(assigned(first, new Date(t0 + 1000)));
    assert.deepEqual(await sees(first), []);
    assert.deepEqual(await sees(second), [visit]);
    assert.equal((await h.http('GET', `/clients/${clientId}`, { tenantId, personId: second, roles: ['salesperson'] })).body.assigneeId, second);
  });

  it('issue 15 item 6, rule 8: a custom role with the assigned-clients scope sees here what the directory shows it — its assigned clients\' visits, not the tenant\'s', async () => {
    const tenantId = randomUUID();
    const { clientId, sitterId } = await h.clientAndSitter(tenantId);
    const other = h.personCreated(tenantId, 'client');
    await h.feed(other);
    const closer = randomUUID();
    const mine = (await assign(tenantId, clientId, sitterId)).body.id;
    await assign(tenantId, other.data.personId, sitterId);
    const who = { tenantId, personId: closer, roles: ['closer'], permissions: ['people.read', 'visits.read'] };
    const sees = async () => (await h.http('GET', '/visits', who)).body.items.map((v: { id: string }) => v.id);
    // Before scheduling knows the role: only the caller's own (none), never the whole tenant.
    assert.deepEqual(await sees(), []);
    const defined = (scope: 'assigned_clients' | 'account', time: Date) => createEvent('directory', {
      type: 'role.defined', subject: 'closer', tenantId, correlationId: randomUUID(), time,
      data: { roleKey: 'closer', name: 'Closer', permissions: ['people.read', 'visits.read'], scope, rank: 20, actor: SYSTEM },
    });
    const t0 = Date.now();
    const first = defined('assigned_clients', new Date(t0));
    await h.feed(first);
    await h.feed(first); // delivered twice: what follows holds as after one delivery
    await h.feed(createEvent('directory', {
      type: 'client.assigned', subject: clientId, tenantId, correlationId: randomUUID(), data: { clientId, staffId: closer, actor: SYSTEM },
    }));
    assert.deepEqual(await sees(), [mine]);
    // An older definition arriving late changes nothing; a newer one does.
    await h.feed(defined('account', new Date(t0 - 1000)));
    assert.deepEqual(await sees(), [mine]);
    await h.feed(defined('account', new Date(t0 + 1000)));
    assert.equal((await sees()).length, 2);
  });

  it('a client.assigned arriving before the client exists is kept, and the client stays unschedulable until user.created', async () => {
    const tenantId = randomUUID();
    const clientId = randomUUID();
    const salesperson = randomUUID();
    await h.feed(createEvent('directory', {
      type: 'client.assigned', subject: clientId, tenantId, correlationId: randomUUID(), data: { clientId, staffId: salesperson, actor: SYSTEM },
    }));
    const sitter = h.personCreated(tenantId, 'staff');
    await h.feed(sitter);
    assert.equal((await assign(tenantId, clientId, sitter.data.personId)).status, 404, 'not a client scheduling knows yet');
    await h.feed(h.personCreated(tenantId, 'client', { id: clientId }));
    const visit = await assign(tenantId, clientId, sitter.data.personId);
    assert.equal(visit.status, 201);
    const list = await h.http('GET', '/visits', { tenantId, personId: salesperson, roles: ['salesperson'] });
    assert.deepEqual(list.body.items.map((v: { id: string }) => v.id), [visit.body.id]);
  });

  it('rule 3: a creation overtaken by its deactivation still brings names and first membership; after reactivation the sitter is assignable', async () => {
    const tenantId = randomUUID();
    const client = h.personCreated(tenantId, 'client', { firstName: 'Olga', lastName: 'Late' });
    const sitter = h.personCreated(tenantId, 'staff');
    const sitterId = sitter.data.personId;
    const clientId = client.data.personId;
    await h.feed(h.lifecycle('user.deactivated', tenantId, sitterId, 'staff', 2), h.lifecycle('user.deactivated', tenantId, clientId, 'client', 2));
    await h.feed(sitter, client);
    await h.feed(h.lifecycle('user.reactivated', tenantId, sitterId, 'staff', 3), h.lifecycle('user.reactivated', tenantId, clientId, 'client', 3));
    assert.equal((await assign(tenantId, clientId, sitterId)).status, 201);
    const seen = await h.http('GET', `/clients/${clientId}`, manager(tenantId));
    assert.deepEqual([seen.body.firstName, seen.body.lastName, seen.body.status], ['Olga', 'Late', 'active']);
    // A profile update newer than the creation keeps its names when the creation arrives again late.
    await h.feed(createEvent('directory', {
      type: 'user.updated', subject: clientId, tenantId, correlationId: randomUUID(), subjectVersion: 4,
      data: { personId: clientId, kind: 'client', firstName: 'Olga', lastName: 'Early', email: null, phone: null, actor: SYSTEM },
    }));
    await h.feed({ ...client, id: randomUUID() });
    assert.equal((await h.http('GET', `/clients/${clientId}`, manager(tenantId))).body.lastName, 'Early');
  });

  it('role.changed moves a membership to its new role: a staff member made supervisor of an area starts seeing its clients\' visits', async () => {
    const tenantId = randomUUID();
    const area = randomUUID();
    const person = h.personCreated(tenantId, 'staff', { accountId: area, roleKey: 'staff' });
    const sitter = h.personCreated(tenantId, 'staff');
    const client = h.personCreated(tenantId, 'client', { accountId: area });
    await h.feed(person, sitter, client);
    const visit = (await assign(tenantId, client.data.personId, sitter.data.personId)).body.id;
    const asSupervisor = { tenantId, personId: person.data.personId, roles: ['supervisor'] };
    assert.deepEqual((await h.http('GET', '/visits', asSupervisor)).body.items, [], 'not a supervisor of the area yet');
    await h.feed(createEvent('directory', {
      type: 'role.changed', subject: person.data.personId, tenantId, correlationId: randomUUID(),
      data: { personId: person.data.personId, accountId: area, fromRoleKey: 'staff', toRoleKey: 'supervisor', notBefore: new Date().toISOString(), actor: SYSTEM },
    }));
    assert.deepEqual((await h.http('GET', '/visits', asSupervisor)).body.items.map((v: { id: string }) => v.id), [visit]);
  });
  it('issue 19: a run of membership events in one statement ends as one by one would: the last about a membership wins, an older one loses', async () => {
    const tenantId = randomUUID();
    const [person, a, b] = [randomUUID(), randomUUID(), randomUUID()];
    const t0 = Date.now();
    const changed = (accountId: string, from: string, to: string, at: number) => createEvent('directory', {
      type: 'role.changed', subject: person, tenantId, correlationId: randomUUID(), time: new Date(at),
      data: { personId: person, accountId, fromRoleKey: from, toRoleKey: to, notBefore: new Date(at).toISOString(), actor: SYSTEM },
    });
    await h.db.$transaction((tx) => recordAccessChanges(tx, [access('access.granted', tenantId, person, a, new Date(t0), 'staff'), access('access.granted', tenantId, person, b, new Date(t0), 'staff')]));
    await h.db.$transaction((tx) => recordAccessChanges(tx, [changed(a, 'staff', 'manager', t0 + 10), changed(a, 'manager', 'supervisor', t0 + 20), changed(b, 'staff', 'manager', t0 - 10)]));
    const rows = await h.db.$queryRawUnsafe<{ account: string; role_key: string }[]>(
      'SELECT account_id::text AS account, role_key FROM membership WHERE person_id = $1::uuid ORDER BY (account_id = $2::uuid) DESC', person, a);
    assert.deepEqual(rows.map((r) => r.role_key), ['supervisor', 'staff'], 'a: the second change of the run; b: a change older than the grant loses');
  });
});
