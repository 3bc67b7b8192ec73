import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import { startDirectory, type DirectoryUnderTest } from './support/directory.js';

// P7 search and pickers, P6 archive and orphaned clients, P9 audit trail, login projection.
describe('directory: search, assignment, audit, logins (Postgres)', () => {
  let d: DirectoryUnderTest;
  let t: Awaited<ReturnType<DirectoryUnderTest['tenant']>>;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    d = await startDirectory('roster_dir_search');
    t = await d.tenant('Search');
    const add = async (key: string, body: Record<string, unknown>) => {
      const res = await d.call(t.owner, 'POST', '/people', { accountId: t.rootAccountId, ...body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids[key] = res.body.id;
    };
    await add('anna', { kind: 'staff', firstName: 'Anna', lastName: 'Smith', email: 'anna.smith@paws.example', phone: '+44 20 7946 0001' });
    await add('bob', { kind: 'staff', firstName: 'Bob', lastName: 'Smithers', email: 'bob@paws.example' });
    await add('carl', { kind: 'staff', firstName: 'Carl', lastName: 'Smithson', roleKey: 'manager' });
    await add('dora', { kind: 'client', firstName: 'Dora', lastName: 'Smith', phone: '+1 (415) 555-0177' });
    await add('eve', { kind: 'staff', firstName: 'Eve', lastName: 'Jones' });
    await d.call(t.owner, 'POST', `/people/${ids.bob}/deactivate`, {});
    await d.call(t.owner, 'POST', `/people/${ids.carl}/archive`, {});
  });
  afterAll(async () => d?.stop());

  const names = async (query: string) => {
    const res = await d.call(t.owner, 'GET', `/people?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items.map((p: { firstName: string }) => p.firstName);
  };

  it('P7: q finds active people by name, e-mail or phone fragment; -q inactive ones; archived only with status=archived', async () => {
    assert.deepEqual(await names('q=smith'), ['Anna', 'Dora']);
    assert.deepEqual(await names('q=-smith'), ['Bob']);
    assert.deepEqual(await names('q=smith&status=archived'), ['Carl']);
    assert.deepEqual(await names('q=PAWS.EXAMPLE'), ['Anna']);
    assert.deepEqual(await names('q=555-0177'), ['Dora'], 'phone digits, whatever the punctuation');
    assert.deepEqual(await names('q=7946'), ['Anna']);
    assert.deepEqual(await names('q=jo'), ['Eve'], 'a short fragment matches the start of the last name');
    assert.deepEqual(await names('q=smith&kind=client'), ['Dora']);
    assert.deepEqual(await names(''), ['Eve', 'Olive', 'Anna', 'Dora', 'Bob'], 'a plain list: active and inactive, by last name');
  });

  it('P7: pickers list active people only, by role', async () => {
    assert.deepEqual(await names('roleKey=staff'), ['Eve', 'Anna']);
    assert.deepEqual(await names(`roleKey=staff&accountId=${t.rootAccountId}&q=ann`), ['Anna']);
  });

  it('P7: keyset pages with opaque cursors; a bad or foreign cursor is a 400', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { firstName: string }[]; nextCursor: string | null } } = await d.call(t.owner, 'GET', `/people?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((p) => p.firstName));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ['Eve', 'Olive', 'Anna', 'Dora', 'Bob']);
    const first = await d.call(t.owner, 'GET', '/people?limit=1');
    for (const bad of ['garbage', 'eyJwIjpbMV19', first.body.nextCursor]) {
      const query = bad === first.body.nextCursor ? `/people?q=smith&limit=1&cursor=${bad}` : `/people?cursor=${bad}`;
      const res = await d.call(t.owner, 'GET', query);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.type, 'https://roster.dev/problems/invalid-cursor');
    }
    assert.equal((await d.call(t.owner, 'GET', '/people?limit=1000')).status, 400);
    assert.equal((await d.call(t.owner, 'GET', '/people?status=gone')).status, 400);
    // Issue 15: signed and bound to the tenant — another tenant's owner cannot use it, nor can anyone
    // rewrite the position inside (the list's sort key and id) and keep the signature.
    const other = await d.tenant('Elsewhere');
    const foreign = await d.call(other.owner, 'GET', `/people?limit=1&cursor=${first.body.nextCursor}`);
    assert.deepEqual([foreign.status, foreign.body.type], [400, 'https://roster.dev/problems/invalid-cursor']);
    const [, signature] = String(first.body.nextCursor).split('.');
    const rewritten = `${Buffer.from(JSON.stringify(['a', '00000000-0000-4000-8000-000000000000'])).toString('base64url')}.${signature}`;
    assert.equal((await d.call(t.owner, 'GET', `/people?limit=1&cursor=${rewritten}`)).status, 400);
    assert.equal((await d.call(t.owner, 'GET', `/people?limit=1&cursor=${first.body.nextCursor}`)).status, 200, 'the cursor itself still works');
  });

  it('P3, P6: a client assigned to a staff member is flagged orphaned once that person is archived', async () => {
    const from = await d.mark();
    const res = await d.call(t.owner, 'PUT', `/clients/${ids.dora}/assignee`, { staffId: ids.anna });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.assigneeId, res.body.orphaned], [ids.anna, false]);
    const [assigned] = await d.eventsSince(from, 'client.assigned');
    assert.ok(assigned?.type === 'client.assigned');
    assert.deepEqual([assigned.data.clientId, assigned.data.staffId], [ids.dora, ids.anna]);
    assert.equal((await d.call(t.owner, 'PUT', `/clients/${ids.dora}/assignee`, { staffId: ids.bob })).status, 409, 'an inactive staff member');
    assert.equal((await d.call(t.owner, 'PUT', `/clients/${ids.anna}/assignee`, { staffId: ids.eve })).status, 400, 'not a client');
    await d.call(t.owner, 'POST', `/people/${ids.anna}/archive`, {});
    const [dora] = (await d.call(t.owner, 'GET', '/people?kind=client')).body.items;
    assert.deepEqual([dora.firstName, dora.orphaned], ['Dora', true]);
    await d.call(t.owner, 'POST', `/people/${ids.anna}/restore`, {});
    assert.equal((await d.call(t.owner, 'GET', `/people/${ids.dora}`)).body.orphaned, false);
  });

  it('P9: the audit trail says who did what to whom, when, per account and per person, newest first, paged', async () => {
    const trail = await d.call(t.owner, 'GET', `/audit?subjectId=${ids.bob}`);
    assert.equal(trail.status, 200);
    assert.deepEqual(trail.body.items.map((e: { action: string }) => e.action), ['person.deactivated', 'person.created']);
    const [deactivated] = trail.body.items;
    assert.deepEqual(deactivated.actor, { kind: 'person', personId: t.ownerId, impersonatorId: null });
    assert.match(deactivated.operationId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(deactivated.accountIds, [t.rootAccountId]);
    const page = await d.call(t.owner, 'GET', `/audit?accountId=${t.rootAccountId}&limit=3`);
    assert.equal(page.body.items.length, 3);
    const next = await d.call(t.owner, 'GET', `/audit?accountId=${t.rootAccountId}&limit=3&cursor=${page.body.nextCursor}`);
    assert.ok(next.body.items.length > 0);
    assert.ok(next.body.items.every((e: { id: string }) => !page.body.items.some((p: { id: string }) => p.id === e.id)));
    assert.equal((await d.call(t.owner, 'GET', `/audit?accountId=${t.rootAccountId}&cursor=nope`)).status, 400);
  });

  it("identity's login events show on the person (hasLogin, loginEnabled), in order, once, and on the trail; cascade effects by system", async () => {
    const personId = ids.eve!;
    const actor = { kind: 'person' as const, personId: t.ownerId, impersonatorId: null };
    const at = (ms: number) => new Date(Date.now() + ms);
    const granted = createEvent('identity', {
      type: 'login.granted', subject: personId, tenantId: t.tenantId, correlationId: crypto.randomUUID(), time: at(0),
      data: { personId, username: 'eve', temporary: true, expiresAt: null, delivery: null, secret: null, actor },
    });
    const disabled = createEvent('identity', {
      type: 'login.disabled', subject: personId, tenantId: t.tenantId, correlationId: crypto.randomUUID(), time: at(10),
      data: { personId, username: 'eve', actor },
    });
    await d.bus.publish([granted]);
    await d.bus.publish([disabled, disabled]);
    await d.bus.publish([granted]); // a redelivery of the older event changes nothing
    const eve = await waitFor('the login state', async () => {
      const r = await d.call(t.owner, 'GET', `/people/${personId}`);
      return r.body.hasLogin && !r.body.loginEnabled ? r.body : null;
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await d.call(t.owner, 'GET', `/people/${personId}`)).body.loginEnabled, false);
    assert.equal(eve.hasLogin, true);
    const trail = await d.call(t.owner, 'GET', `/audit?subjectId=${personId}`);
    // Handled in whatever order the bus delivered them; each entry says when it happened in identity.
    const byAction = Object.fromEntries(trail.body.items.map((e: { action: string; at: string }) => [e.action, e.at]));
    assert.deepEqual(Object.keys(byAction).sort(), ['login.disabled', 'login.granted', 'person.created']);
    assert.equal(byAction['login.granted'], granted.time);
    assert.equal(byAction['login.disabled'], disabled.time);

    const operationId = crypto.randomUUID();
    await d.bus.publish([createEvent('scheduling', {
      type: 'visits.unassigned', subject: personId, tenantId: t.tenantId, correlationId: operationId,
      data: { sitterId: personId, visitCount: 3, visitIds: [], chunk: { index: 0, total: 1 }, defaultSitterClearedFor: 1 },
    })]);
    const effect = await waitFor('the cascade effect on the trail', async () => {
      const r = await d.call(t.owner, 'GET', `/audit?subjectId=${personId}`);
      return r.body.items.find((e: { action: string }) => e.action === 'visits.unassigned');
    });
    assert.deepEqual([effect.actor.kind, effect.operationId, effect.detail.visitCount], ['system', operationId, 3]);
  });
});
