import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DirectoryTx } from '../src/db/client.js';
import { knownPeopleAmong, type KnownInvitee } from '../src/invitations/lookups.js';
import { refuseDuplicates } from '../src/people/commands.js';
import { startDirectory, type DirectoryUnderTest, type Who } from './support/directory.js';

// P1, P5, P6, B1 through HTTP on Postgres: tenants, the account tree, people and their lifecycle.
describe('directory: tenants, accounts, people, lifecycle (Postgres)', () => {
  let d: DirectoryUnderTest;
  beforeAll(async () => {
    d = await startDirectory('roster_dir_people');
  });
  afterAll(async () => d?.stop());

  it('P1: the operator provisions a tenant: root account and owner, announced; a wrong key changes nothing', async () => {
    const bad = await d.call(null, 'POST', '/tenants', { name: 'X', owner: { firstName: 'A', lastName: 'B', email: 'a@b.example' } });
    assert.equal(bad.status, 401);
    assert.match(bad.type, /problem\+json/);
    const from = await d.mark();
    const t = await d.tenant('Happy Paws');
    const events = await d.eventsSince(from);
    const root = events.find((e) => e.type === 'account.created');
    assert.equal(root?.type === 'account.created' && root.data.kind, 'root');
    assert.equal(root?.subject, t.rootAccountId);
    const owner = events.find((e) => e.type === 'user.created');
    assert.ok(owner && owner.type === 'user.created');
    assert.deepEqual([owner.subject, owner.data.accountId, owner.data.roleKey, owner.subjectversion], [t.ownerId, t.rootAccountId, 'owner', 1]);
    assert.equal(events.filter((e) => e.type === 'access.granted').length, 0, 'the first membership travels in user.created only');
    const me = await d.call(t.owner, 'GET', `/people/${t.ownerId}`);
    assert.deepEqual(me.body.memberships, [{ accountId: t.rootAccountId, roleKey: 'owner' }]);
  });

  it('P1: a chain with branches, an agency with client accounts, a company with areas; unknown parents refused', async () => {
    const t = await d.tenant('Chain');
    const from = await d.mark();
    const branch = await d.call(t.owner, 'POST', '/accounts', { name: 'North', kind: 'branch' });
    assert.equal(branch.status, 201);
    assert.equal(branch.body.parentId, t.rootAccountId);
    const area = await d.call(t.owner, 'POST', '/accounts', { name: 'North-East', kind: 'area', parentId: branch.body.id });
    assert.deepEqual(area.body.ancestors, [t.rootAccountId, branch.body.id, area.body.id]);
    const client = await d.call(t.owner, 'POST', '/accounts', { name: 'Acme', kind: 'client_account' });
    assert.equal(client.status, 201);
    const events = await d.eventsSince(from, 'account.created');
    assert.deepEqual(events.map((e) => e.subject), [branch.body.id, area.body.id, client.body.id]);

    const other = await d.tenant('Other');
    const foreign = await d.call(t.owner, 'POST', '/accounts', { name: 'Sneaky', kind: 'branch', parentId: other.rootAccountId });
    assert.equal(foreign.status, 400);
    assert.deepEqual(foreign.body.unknownAccounts, [other.rootAccountId]);
    const list = await d.call(t.owner, 'GET', '/accounts');
    assert.deepEqual(list.body.items.map((a: { name: string }) => a.name), ['Chain', 'North', 'North-East', 'Acme']);
    assert.equal((await d.call(other.owner, 'GET', '/accounts')).body.items.length, 1, 'each tenant sees its own tree');
    assert.equal((await d.call(t.owner, 'POST', '/accounts', { name: 'x', kind: 'planet' })).status, 400);
  });

  it('P1, P8: e-mail and phone identify a person in the tenant: a duplicate is a 409 naming them and how to add a membership', async () => {
    const t = await d.tenant();
    const first = await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'Sam', lastName: 'Sitter', email: 'Sam@Example.com', phone: '+44 20 7946 0958', accountId: t.rootAccountId });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.deepEqual(first.body.roleKeys, ['staff']);
    const from = await d.mark();
    const byEmail = await d.call(t.owner, 'POST', '/people', { kind: 'client', firstName: 'Other', lastName: 'Sam', email: 'sam@example.COM', accountId: t.rootAccountId });
    assert.equal(byEmail.status, 409);
    assert.equal(byEmail.body.existingPersonId, first.body.id);
    assert.equal(byEmail.body.field, 'email');
    assert.equal(byEmail.body.addMembership.href, `/people/${first.body.id}/access`);
    const byPhone = await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'P', lastName: 'Hone', phone: '+44 (20) 7946-0958', accountId: t.rootAccountId });
    assert.equal(byPhone.status, 409);
    assert.equal(byPhone.body.field, 'phone');
    const elsewhere = await d.tenant('Elsewhere');
    assert.equal((await d.call(elsewhere.owner, 'POST', '/people', { kind: 'staff', firstName: 'Sam', lastName: 'Twin', email: 'sam@example.com', accountId: elsewhere.rootAccountId })).status, 201,
      'another tenant may have the same e-mail');
    assert.equal((await d.eventsSince(from, 'user.created')).filter((e) => e.tenantid === t.tenantId).length, 0, 'nothing emitted for the refusals');
  });

  it('P8: five simultaneous creations with one e-mail make one person; the others get the 409 naming them', async () => {
    const t = await d.tenant();
    const body = { kind: 'client', firstName: 'Rae', lastName: 'Race', email: 'rae@race.example', accountId: t.rootAccountId };
    const answers = await Promise.all(Array.from({ length: 5 }, () => d.call(t.owner, 'POST', '/people', body)));
    const created = answers.filter((a) => a.status === 201);
    assert.equal(created.length, 1, JSON.stringify(answers.map((a) => a.status)));
    for (const a of answers.filter((x) => x.status !== 201)) {
      assert.equal(a.status, 409);
      assert.equal(a.body.existingPersonId, created[0]!.body.id);
    }
    assert.equal(await d.count("SELECT 1 FROM person WHERE tenant_id = $1::uuid AND email = 'rae@race.example'", t.tenantId), 1);
  });

  it('P8: who holds an e-mail or phone is found in a handful of rows, archived people included, however large the tenant', async () => {
    const t = await d.tenant('Large');
    // 3,000 people, one in ten archived, written straight to the table (the API would take minutes).
    await d.service.ctx.prisma.$executeRawUnsafe(
      `INSERT INTO person (id, tenant_id, kind, first_name, last_name, email, phone, account_id, role_key, status, updated_at)
       SELECT gen_random_uuid(), $1::uuid, 'staff', 'P' || i, 'Many', 'p' || i || '@large.example', '+4474' || lpad(i::text, 8, '0'),
              $2::uuid, 'staff', CASE WHEN i % 10 = 0 THEN 'archived' ELSE 'active' END, now()
       FROM generate_series(1, 3000) AS i`, t.tenantId, t.rootAccountId);
    await d.service.ctx.prisma.$executeRawUnsafe('ANALYZE person');
    // Rows of person one lookup reads, as Postgres counts them on this connection (its counters are
    // not flushed inside a transaction, so the difference is the lookup's).
    const rowsRead = (lookup: (tx: DirectoryTx) => Promise<unknown>) => d.service.ctx.prisma.$transaction(async (tx) => {
      const counted = async () => (await tx.$queryRawUnsafe<{ n: number }[]>(
        "SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS n FROM pg_stat_xact_user_tables WHERE relname = 'person'"))[0]!.n;
      const before = await counted();
      const outcome = await lookup(tx).then((v) => v, (e: unknown) => e);
      return { outcome, read: (await counted()) - before };
    });
    const conflictOf = (outcome: unknown) => (outcome as { extensions?: { existingPersonId?: string; field?: string } }).extensions;

    const active = await rowsRead((tx) => refuseDuplicates(tx, t.tenantId, { email: 'P7@Large.example', phone: null }));
    assert.equal(conflictOf(active.outcome)?.field, 'email', String(active.outcome));
    const archived = await rowsRead((tx) => refuseDuplicates(tx, t.tenantId, { email: null, phone: '+44 74 0000 0020' }));
    assert.equal(conflictOf(archived.outcome)?.field, 'phone', 'an archived person holds their phone for the people API');
    const released = await rowsRead((tx) => refuseDuplicates(tx, t.tenantId, { email: 'p20@large.example', phone: null }, undefined, false));
    assert.equal(released.outcome, undefined, 'for SCIM an archived person takes no part');
    const free = await rowsRead((tx) => refuseDuplicates(tx, t.tenantId, { email: 'nobody@large.example', phone: '+447499999999' }));
    assert.equal(free.outcome, undefined);
    const invitees = await rowsRead((tx) => knownPeopleAmong(tx, t.tenantId, t.rootAccountId, [{ email: 'p30@large.example' }, { phone: '+447400000031' }]));
    assert.deepEqual((invitees.outcome as KnownInvitee[]).map((p) => p.status).sort(), ['active', 'archived']);
    const reads = Object.fromEntries(Object.entries({ active, archived, released, free, invitees }).map(([name, r]) => [name, r.read]));
    assert.ok(Object.values(reads).every((n) => n <= 10), `rows of person read per lookup (the tenant has 3,001): ${JSON.stringify(reads)}`);
  });

  it('P1: bad input is a precise 400 and creates nobody', async () => {
    const t = await d.tenant();
    const before = await d.count('SELECT 1 FROM person WHERE tenant_id = $1::uuid', t.tenantId);
    const cases: [unknown, RegExp | string][] = [
      [{ kind: 'staff', firstName: 'A', lastName: 'B', accountId: randomUUID() }, 'unknown-account'],
      [{ kind: 'staff', firstName: 'A', lastName: 'B', accountId: t.rootAccountId, roleKey: 'wizard' }, 'unknown-role'],
      [{ kind: 'client', firstName: 'A', lastName: 'B', accountId: t.rootAccountId, roleKey: 'manager' }, 'bad-request'],
      [{ kind: 'staff', firstName: '', lastName: 'B', accountId: t.rootAccountId }, 'validation'],
      [{ kind: 'staff', firstName: 'A', lastName: 'B', accountId: t.rootAccountId, email: 'not-an-email' }, 'validation'],
    ];
    for (const [body, slug] of cases) {
      const res = await d.call(t.owner, 'POST', '/people', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.type, /problem\+json/);
      assert.equal(res.body.type, `https://roster.dev/problems/${slug}`);
    }
    assert.equal(await d.count('SELECT 1 FROM person WHERE tenant_id = $1::uuid', t.tenantId), before);
  });

  it('P1: PATCH changes the profile at the next version and emits user.updated; clients get the role client', async () => {
    const t = await d.tenant();
    const c = await d.call(t.owner, 'POST', '/people', { kind: 'client', firstName: 'Cleo', lastName: 'Client', accountId: t.rootAccountId, dailyReminder: true });
    assert.deepEqual(c.body.memberships, [{ accountId: t.rootAccountId, roleKey: 'client' }]);
    const from = await d.mark();
    const patched = await d.call(t.owner, 'PATCH', `/people/${c.body.id}`, { lastName: 'Clarke', defaultLandingPage: '/visits', phone: '+1 415 555 0122' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual([patched.body.lastName, patched.body.version, patched.body.defaultLandingPage, patched.body.dailyReminder], ['Clarke', 2, '/visits', true]);
    const [updated] = await d.eventsSince(from, 'user.updated');
    assert.ok(updated && updated.type === 'user.updated');
    assert.equal(updated.subjectversion, 2);
    assert.equal(updated.data.lastName, 'Clarke');
    assert.deepEqual(updated.data.actor, { kind: 'person', personId: t.ownerId, impersonatorId: null });
    assert.equal((await d.call(t.owner, 'PATCH', `/people/${c.body.id}`, {})).status, 400);
  });

  it('P5, P6: deactivate, reactivate, archive, restore: each an operation and an event with kind, roles, actor, reason; wrong states are precise 409s', async () => {
    const t = await d.tenant();
    const s = await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'Mo', lastName: 'Manager', accountId: t.rootAccountId, roleKey: 'manager' });
    const id = s.body.id as string;
    const from = await d.mark();
    const deactivated = await d.call(t.owner, 'POST', `/people/${id}/deactivate`, { reason: 'left' });
    assert.equal(deactivated.status, 202);
    assert.match(deactivated.body.operationId, /^[0-9a-f-]{36}$/);
    const [event] = await d.eventsSince(from, 'user.deactivated');
    assert.ok(event && event.type === 'user.deactivated');
    assert.deepEqual([event.data.kind, event.data.roleKeys, event.data.reason, event.correlationid, event.subjectversion], ['staff', ['manager'], 'left', deactivated.body.operationId, 2]);

    const again = await d.call(t.owner, 'POST', `/people/${id}/deactivate`, {});
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /inactive/);
    assert.equal((await d.call(t.owner, 'POST', `/people/${id}/reactivate`)).status, 202);
    assert.equal((await d.call(t.owner, 'POST', `/people/${id}/archive`, { reason: 'gone' })).status, 202);
    const archivedTwice = await d.call(t.owner, 'POST', `/people/${id}/archive`, {});
    assert.equal(archivedTwice.status, 409);
    assert.match(archivedTwice.body.detail, /already archived/);
    const deactivateArchived = await d.call(t.owner, 'POST', `/people/${id}/deactivate`, {});
    assert.equal(deactivateArchived.status, 409);
    // RFC 9457 (issue 16): `status` is the HTTP status; the person's state is an extension.
    assert.equal(deactivateArchived.body.status, 409);
    assert.equal(deactivateArchived.body.state, 'archived');
    assert.equal((await d.call(t.owner, 'POST', `/people/${id}/reactivate`, {})).status, 409);
    assert.equal((await d.call(t.owner, 'PATCH', `/people/${id}`, { firstName: 'Z' })).status, 409);
    assert.equal((await d.call(t.owner, 'POST', `/people/${id}/restore`, {})).status, 202);
    const types = (await d.eventsSince(from)).filter((e) => e.subject === id).map((e) => `${e.type}@${e.subjectversion}`);
    assert.deepEqual(types, ['user.deactivated@2', 'user.reactivated@3', 'user.archived@4', 'user.restored@5']);
    const person = await d.call(t.owner, 'GET', `/people/${id}`);
    assert.deepEqual([person.body.status, person.body.version], ['active', 5]);
    assert.equal((await d.call(t.owner, 'POST', `/people/${randomUUID()}/deactivate`, {})).status, 404);
  });

  it('B1: a dry run emits cascade.preview_requested only, changes nothing, and its operation is marked dryRun', async () => {
    const t = await d.tenant();
    const s = await d.call(t.owner, 'POST', '/people', { kind: 'staff', firstName: 'Dee', lastName: 'Dry', accountId: t.rootAccountId });
    const from = await d.mark();
    const res = await d.call(t.owner, 'POST', `/people/${s.body.id}/archive`, { dryRun: true });
    assert.equal(res.status, 202);
    const events = await d.eventsSince(from);
    assert.deepEqual(events.map((e) => e.type), ['cascade.preview_requested']);
    const [preview] = events;
    assert.ok(preview?.type === 'cascade.preview_requested');
    assert.deepEqual([preview.data.action, preview.data.roleKeys], ['archive', ['staff']]);
    const op = await d.call(t.owner, 'GET', `/operations/${res.body.operationId}`);
    assert.deepEqual([op.body.dryRun, op.body.status, op.body.expected], [true, 'pending', ['identity', 'notifications', 'scheduling']]);
    assert.equal(op.body.traceparent, preview.traceparent, 'the operation links to the trace its events carry (rule 9)');
    assert.match(op.body.traceId, /^[0-9a-f]{32}$/);
    assert.equal((await d.call(t.owner, 'GET', `/people/${s.body.id}`)).body.status, 'active');
    assert.equal(await d.count("SELECT 1 FROM audit_entry WHERE subject_id = $1 AND action LIKE 'person.archived'", s.body.id), 0);
    assert.equal((await d.call(t.owner, 'POST', `/people/${s.body.id}/restore`, { dryRun: true })).status, 400);
  });

  it('every query is tenant-scoped: another tenant\'s person, account or operation answers 404 and nothing changes', async () => {
    const a = await d.tenant('A');
    const b = await d.tenant('B');
    const s = await d.call(a.owner, 'POST', '/people', { kind: 'staff', firstName: 'Ann', lastName: 'A', accountId: a.rootAccountId });
    const op = await d.call(a.owner, 'POST', `/people/${s.body.id}/deactivate`, {});
    const intruder: Who = b.owner;
    assert.equal((await d.call(intruder, 'GET', `/people/${s.body.id}`)).status, 404);
    assert.equal((await d.call(intruder, 'PATCH', `/people/${s.body.id}`, { firstName: 'Hacked' })).status, 404);
    assert.equal((await d.call(intruder, 'POST', `/people/${s.body.id}/reactivate`, {})).status, 404);
    assert.equal((await d.call(intruder, 'GET', `/operations/${op.body.operationId}`)).status, 404);
    assert.equal((await d.call(intruder, 'PUT', `/people/${s.body.id}/access`, { grants: [{ accountId: b.rootAccountId, roleKey: 'staff' }] })).status, 404);
    assert.equal((await d.call(intruder, 'PUT', `/accounts/${a.rootAccountId}/access`, { grants: [{ personId: b.ownerId, roleKey: 'staff' }] })).status, 404);
    assert.equal((await d.call(intruder, 'POST', '/people', { kind: 'staff', firstName: 'X', lastName: 'Y', accountId: a.rootAccountId })).status, 400);
    assert.equal((await d.call(intruder, 'GET', '/people?q=ann')).body.items.length, 0);
    const person = await d.call(a.owner, 'GET', `/people/${s.body.id}`);
    assert.deepEqual([person.body.firstName, person.body.status], ['Ann', 'inactive']);
    assert.equal((await d.call(null, 'GET', `/people/${s.body.id}`)).status, 401);
  });
});
