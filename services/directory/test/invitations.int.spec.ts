import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent, type EventEnvelope, type EventOf } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { open, parseSealingPrivateKeys } from '@roster/platform/crypto/sealing';
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
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// P8 through HTTP on Postgres, with the in-memory bus standing in for identity and notifications.
describe('invitations (P8, directory on Postgres)', () => {
  const tokens = testTokens();
  const bus = new MemoryBus();
  const seen: EventEnvelope[] = [];
  let database: TestDatabase;
  let directory: RunningService<DirectoryDb>;
  let db: DirectoryDb;

  beforeAll(async () => {
    database = await createTestDatabase('roster_invitations');
    directory = await startService(directoryService, {
      bus, env: { ...tokens.env, PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: 'silent' },
    });
    db = directory.ctx.prisma;
    await bus.subscribe({
      group: 'probe', types: ['invitation.created', 'invitation.updated', 'invitation.withdrawn', 'user.created', 'access.granted', 'cascade.step.completed'],
      handler: async (e) => void seen.push(e),
    });
  });
  afterAll(async () => {
    await directory?.stop();
    await database?.drop();
  });

  /** A tenant with its owner and two branches. */
  async function tenant() {
    const t = await provisionTenant(db, { name: 'Paws', owner: { firstName: 'Olga', lastName: 'Owner', email: `owner-${randomUUID()}@paws.example` } });
    const [north, south] = await db.$transaction(async (tx) => [
      await createAccount(tx, t.tenantId, { name: 'North', kind: 'branch', parentId: t.rootAccountId }, OPERATOR),
      await createAccount(tx, t.tenantId, { name: 'South', kind: 'branch', parentId: t.rootAccountId }, OPERATOR),
    ]);
    const owner = tokens.bearer({ tenantId: t.tenantId, personId: t.ownerId, roles: ['owner'] });
    return { ...t, north: north!.id, south: south!.id, owner };
  }
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${directory.url}${path}`, {
      method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : null) as Json };
  };
  const eventsAbout = (type: string, subject: string) => seen.filter((e) => e.type === type && e.subject === subject);
  const waitEvent = <T extends EventEnvelope>(what: string, pick: (e: EventEnvelope) => boolean) =>
    waitFor(what, () => seen.find(pick) as T | undefined);
  const accepted = (tenantId: string, invitationId: string, data: Partial<EventOf<'invitation.accepted'>['data']> & { personId: string }) =>
    createEvent('identity', {
      type: 'invitation.accepted', subject: invitationId, tenantId, correlationId: randomUUID(),
      data: { invitationId, accountId: randomUUID(), roleKey: 'staff', newPerson: true, registration: null, ...data },
    });
  const registration = (firstName: string, phone: string | null, email: string | null) => ({
    firstName, lastName: 'Newcomer', phone, email, marketingConsent: true, termsAcceptedAt: new Date().toISOString(),
  });
  const openToken = (e: EventOf<'invitation.created'>) =>
    open(parseSealingPrivateKeys(tokens.env.NOTIFICATIONS_SEALING_PRIVATE_KEYS), e.data.token);
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  it('P8: invites one person by e-mail and one by SMS; each gets a sealed 256-bit link token that only its hash identifies', async () => {
    const t = await tenant();
    const res = await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'staff',
      invitees: [{ firstName: 'Erin', lastName: 'Email', email: 'erin@paws.example' }, { firstName: 'Sam', lastName: 'Sms', phone: '+44 7911 123123' }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const [erin, sam] = res.body.items as Json[];
    assert.deepEqual([erin!.channel, sam!.channel], ['email', 'sms']);
    assert.deepEqual([erin!.status, sam!.status], ['pending', 'pending']);
    assert.ok(!('tokenHash' in erin!), 'the API never shows the token hash');
    const days = (Date.parse(erin!.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 6.99 && days <= 7, `expires in 7 days (got ${days})`);

    for (const invitation of [erin!, sam!]) {
      const event = await waitEvent<EventOf<'invitation.created'>>('invitation.created', (e) => e.type === 'invitation.created' && e.subject === invitation.id);
      const token = openToken(event);
      assert.equal(Buffer.from(token, 'base64url').length, 32);
      assert.equal(event.data.tokenHash, sha256(token));
      assert.equal(event.data.resend, false);
      assert.equal(event.data.channel, invitation.channel);
      assert.ok(!JSON.stringify(event).includes(token), 'the token never travels in clear');
      const row = await db.invitation.findUniqueOrThrow({ where: { id: invitation.id } });
      assert.equal(row.tokenHash, sha256(token));
      assert.ok(!JSON.stringify(row).includes(token), 'the token is not stored');
    }
    const audit = await db.auditEntry.findMany({ where: { tenantId: t.tenantId, action: 'invitation.created' } });
    assert.equal(audit.length, 2);
    assert.equal(audit[0]!.actorPersonId, t.ownerId);
  });

  it('P8: lists pending invitations page by page; expired and withdrawn ones are listed under their own status', async () => {
    const t = await tenant();
    const invite = async (n: number) => (await call('POST', '/invitations', t.owner, {
      accountId: t.south, roleKey: 'staff', invitees: [{ firstName: `P${n}`, lastName: 'Ending', email: `p${n}@paws.example` }],
    })).body.items[0] as Json;
    const all = [];
    for (let n = 0; n < 4; n++) all.push(await invite(n));
    await db.invitation.update({ where: { id: all[0]!.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await call('DELETE', `/invitations/${all[1]!.id}`, t.owner)).status, 200);

    const first = await call('GET', '/invitations?status=pending&limit=1', t.owner);
    assert.equal(first.status, 200);
    assert.equal(first.body.items.length, 1);
    assert.ok(first.body.nextCursor);
    const second = await call('GET', `/invitations?status=pending&limit=1&cursor=${first.body.nextCursor}`, t.owner);
    assert.equal(second.body.items.length, 1);
    assert.equal(second.body.nextCursor, null);
    assert.deepEqual([...first.body.items, ...second.body.items].map((i: Json) => i.id), [all[3]!.id, all[2]!.id], 'newest first');
    assert.deepEqual((await call('GET', '/invitations?status=expired', t.owner)).body.items.map((i: Json) => i.id), [all[0]!.id]);
    const withdrawn = (await call('GET', '/invitations?status=withdrawn', t.owner)).body.items as Json[];
    assert.deepEqual(withdrawn.map((i) => [i.id, i.status]), [[all[1]!.id, 'withdrawn']]);
    assert.equal((await call('GET', `/invitations?status=expired&cursor=${first.body.nextCursor}`, t.owner)).status, 400, 'a cursor belongs to its query');
  });

  it('P8: a resend issues a new token and kills the old one (its hash is replaced), with a new expiry', async () => {
    const t = await tenant();
    const created = (await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'manager', invitees: [{ firstName: 'Rita', lastName: 'Resend', email: 'rita@paws.example' }],
    })).body.items[0] as Json;
    const before = await db.invitation.findUniqueOrThrow({ where: { id: created.id } });
    await db.invitation.update({ where: { id: created.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await call('POST', `/invitations/${created.id}/resend`, t.owner);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'pending', 'an expired invitation comes back to life');
    assert.equal(res.body.sentCount, 2);
    const after = await db.invitation.findUniqueOrThrow({ where: { id: created.id } });
    assert.notEqual(after.tokenHash, before.tokenHash);
    const resent = await waitFor('the resend', () => eventsAbout('invitation.created', created.id).find((e) => (e as EventOf<'invitation.created'>).data.resend)) as EventOf<'invitation.created'>;
    assert.equal(sha256(openToken(resent)), after.tokenHash);
    assert.equal(resent.data.tokenHash, after.tokenHash);
    assert.equal(await db.invitation.count({ where: { tokenHash: before.tokenHash } }), 0, 'nothing answers to the old token');
  });

  it('P8: rights are edited before acceptance (invitation.updated); withdrawn invitations can be neither edited, resent nor withdrawn again', async () => {
    const t = await tenant();
    const created = (await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'staff', invitees: [{ firstName: 'Eddie', lastName: 'Edit', phone: '+1 415 555 0100' }],
    })).body.items[0] as Json;
    const edited = await call('PATCH', `/invitations/${created.id}`, t.owner, { accountId: t.south, roleKey: 'supervisor' });
    assert.equal(edited.status, 200);
    assert.deepEqual([edited.body.accountId, edited.body.roleKey], [t.south, 'supervisor']);
    const updated = await waitEvent<EventOf<'invitation.updated'>>('invitation.updated', (e) => e.type === 'invitation.updated' && e.subject === created.id);
    assert.deepEqual([updated.data.accountId, updated.data.roleKey, updated.data.actor.personId], [t.south, 'supervisor', t.ownerId]);

    const withdrawn = await call('DELETE', `/invitations/${created.id}`, t.owner);
    assert.equal(withdrawn.body.status, 'withdrawn');
    await waitEvent('invitation.withdrawn', (e) => e.type === 'invitation.withdrawn' && e.subject === created.id);
    for (const [method, path, body] of [['PATCH', '', { roleKey: 'staff' }], ['POST', '/resend', undefined], ['DELETE', '', undefined]] as const) {
      const res = await call(method, `/invitations/${created.id}${path}`, t.owner, body);
      assert.equal(res.status, 409, `${method} ${path}`);
      assert.match(res.body.detail, /withdrawn/);
    }
  });

  it('P8: a new person registers → the person exists with the invited membership, the invitation is accepted, the step is recorded', async () => {
    const t = await tenant();
    const created = (await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'staff', invitees: [{ firstName: 'Nina', lastName: 'New', phone: '+44 7911 123555' }],
    })).body.items[0] as Json;
    const personId = randomUUID();
    const event = accepted(t.tenantId, created.id, { personId, accountId: t.north, registration: registration('Nina', '+44 7911 123555', 'nina@paws.example') });
    await bus.publish([event]);
    await bus.publish([event]); // delivered twice: one person, one step
    const step = await waitEvent<EventOf<'cascade.step.completed'>>('directory step', (e) => e.type === 'cascade.step.completed' && (e as EventOf<'cascade.step.completed'>).data.causeEventId === event.id);
    assert.deepEqual([step.data.service, step.data.step, step.data.outcome], ['directory', 'join_account', 'applied']);
    assert.equal(step.data.operationId, event.correlationid);
    const person = await readPerson(db, t.tenantId, personId);
    assert.ok(person);
    assert.deepEqual([person.kind, person.firstName, person.lastName, person.email, person.phone], ['staff', 'Nina', 'Newcomer', 'nina@paws.example', '+44 7911 123555']);
    assert.deepEqual(person.memberships, [{ accountId: t.north, roleKey: 'staff' }]);
    // Issue 16 item 1: identity created the login with the person; the directory says so.
    const shown = (await call('GET', `/people/${personId}`, t.owner)).body;
    assert.deepEqual([shown.hasLogin, shown.loginEnabled], [true, true]);
    const invitation = (await call('GET', `/invitations/${created.id}`, t.owner)).body;
    assert.deepEqual([invitation.status, invitation.acceptedPersonId], ['accepted', personId]);
    await waitEvent('user.created', (e) => e.type === 'user.created' && e.subject === personId);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.filter((e) => e.type === 'cascade.step.completed' && (e as EventOf<'cascade.step.completed'>).data.causeEventId === event.id).length, 1);
    assert.equal(await db.auditEntry.count({ where: { tenantId: t.tenantId, action: 'invitation.accepted', subjectId: created.id } }), 1);
    const op = await waitFor('the operation', async () => {
      const r = await call('GET', `/operations/${event.correlationid}`, t.owner);
      return r.body?.status === 'completed' ? r.body : null;
    });
    assert.deepEqual(op.steps.map((s: Json) => [s.service, s.step, s.outcome]), [['directory', 'join_account', 'applied']]);
  });

  it('P8: an invited client who registers becomes a client, keeping the address the link went to', async () => {
    const t = await tenant();
    const created = (await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'client', invitees: [{ firstName: 'Cleo', lastName: 'Client', email: 'cleo@paws.example' }],
    })).body.items[0] as Json;
    const personId = randomUUID();
    await bus.publish([accepted(t.tenantId, created.id, { personId, roleKey: 'client', registration: registration('Cleo', '+44 7911 123999', null) })]);
    const person = await waitFor('the client', () => readPerson(db, t.tenantId, personId));
    assert.deepEqual([person.kind, person.roleKeys], ['client', ['client']]);
    assert.deepEqual([person.email, person.phone], ['cleo@paws.example', '+44 7911 123999'], 'the invited address is kept when the form has none');
  });

  it('issue 16 item 8: a registration arriving by event with a phone nobody can text keeps the person, not the phone', async () => {
    const t = await tenant();
    const created = (await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'staff', invitees: [{ firstName: 'Una', lastName: 'Usable', email: 'una@paws.example' }],
    })).body.items[0] as Json;
    const personId = randomUUID();
    await bus.publish([accepted(t.tenantId, created.id, { personId, registration: registration('Una', '+15557654321', null) })]);
    const person = await waitFor('the person', () => readPerson(db, t.tenantId, personId));
    assert.deepEqual([person.email, person.phone], ['una@paws.example', null]);
  });

  it('P8: an existing person from another branch joins → membership added, no second person', async () => {
    const t = await tenant();
    const existing = await db.$transaction((tx) => createPersonInTx(tx, t.tenantId, {
      kind: 'staff', firstName: 'Bea', lastName: 'Branch', email: 'bea@paws.example', accountId: t.north, roleKey: 'staff',
    }, OPERATOR));
    const created = (await call('POST', '/invitations', t.owner, {
      accountId: t.south, roleKey: 'manager', invitees: [{ firstName: 'Bea', lastName: 'Branch', email: 'BEA@paws.example' }],
    }));
    assert.equal(created.status, 201, 'a member of another branch may be invited');
    const event = accepted(t.tenantId, created.body.items[0].id, { personId: existing.id, newPerson: false, accountId: t.south, roleKey: 'manager' });
    await bus.publish([event]);
    await waitEvent('access.granted', (e) => e.type === 'access.granted' && e.subject === existing.id);
    const person = await readPerson(db, t.tenantId, existing.id);
    assert.deepEqual(person!.memberships.map((m) => [m.accountId, m.roleKey]).sort(), [[t.north, 'staff'], [t.south, 'manager']].sort());
    assert.equal(await db.person.count({ where: { tenantId: t.tenantId, email: { equals: 'bea@paws.example', mode: 'insensitive' } } }), 1);
    const step = await waitEvent<EventOf<'cascade.step.completed'>>('step', (e) => e.type === 'cascade.step.completed' && (e as EventOf<'cascade.step.completed'>).data.causeEventId === event.id);
    assert.deepEqual([step.data.outcome, step.data.counts], ['applied', { peopleCreated: 0, membershipsAdded: 1, rolesChanged: 0 }]);
  });

  it('P8: an acceptance of a withdrawn or expired invitation changes nothing; the step fails and says why', async () => {
    const t = await tenant();
    const [w, x] = (await call('POST', '/invitations', t.owner, {
      accountId: t.north, roleKey: 'staff',
      invitees: [{ firstName: 'Will', lastName: 'Withdrawn', email: 'will@paws.example' }, { firstName: 'Ed', lastName: 'Expired', email: 'ed@paws.example' }],
    })).body.items as Json[];
    await call('DELETE', `/invitations/${w!.id}`, t.owner);
    await db.invitation.update({ where: { id: x!.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    for (const [invitation, reason] of [[w!, /withdrawn/], [x!, /expired/]] as const) {
      const personId = randomUUID();
      const event = accepted(t.tenantId, invitation.id, { personId, registration: registration('Late', null, `${personId}@paws.example`) });
      await bus.publish([event]);
      const step = await waitEvent<EventOf<'cascade.step.completed'>>('step', (e) => e.type === 'cascade.step.completed' && (e as EventOf<'cascade.step.completed'>).data.causeEventId === event.id);
      assert.equal(step.data.outcome, 'failed');
      assert.match(step.data.detail ?? '', reason);
      assert.equal(await readPerson(db, t.tenantId, personId), null);
      assert.notEqual((await call('GET', `/invitations/${invitation.id}`, t.owner)).body.status, 'accepted');
      const op = await waitFor('the failed operation', async () => {
        const r = await call('GET', `/operations/${event.correlationid}`, t.owner);
        return r.body?.status === 'failed' ? r.body : null;
      });
      assert.match(op.steps[0].detail, reason);
    }
  });

  describe('bad input: a precise 4xx, nothing changed, nothing emitted', () => {
    let t: Awaited<ReturnType<typeof tenant>>;
    beforeAll(async () => {
      t = await tenant();
    });
    const nothingChanged = async (fn: () => Promise<{ status: number; type: string; body: Json }>, status: number, detail: RegExp) => {
      const outbox = await db.outboxMessage.count();
      const invitations = await db.invitation.count({ where: { tenantId: t.tenantId } });
      const res = await fn();
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.type, /application\/problem\+json/);
      assert.match(`${res.body.detail}`, detail);
      assert.equal(await db.outboxMessage.count(), outbox, 'nothing emitted');
      assert.equal(await db.invitation.count({ where: { tenantId: t.tenantId } }), invitations, 'nothing stored');
      return res;
    };
    const invite = (body: unknown, headers: Record<string, string> = t.owner) => () => call('POST', '/invitations', headers, body);
    const one = (invitee: Json, extra: Json = {}) => ({ accountId: t.north, roleKey: 'staff', invitees: [invitee], ...extra });

    it('an invitee with neither e-mail nor phone', async () => void await nothingChanged(invite(one({ firstName: 'A', lastName: 'B' })), 400, /body\.invitees\.0.*email or a phone/));
    it('a malformed e-mail or phone', async () => void await nothingChanged(invite(one({ firstName: 'A', lastName: 'B', email: 'nope', phone: 'x' })), 400, /body\.invitees\.0\.email.*body\.invitees\.0\.phone/));
    it('no invitee, or more than 100', async () => {
      await nothingChanged(invite({ accountId: t.north, roleKey: 'staff', invitees: [] }), 400, /body\.invitees/);
      const many = Array.from({ length: 101 }, (_, i) => ({ firstName: 'A', lastName: 'B', email: `a${i}@paws.example` }));
      await nothingChanged(invite({ accountId: t.north, roleKey: 'staff', invitees: many }), 400, /body\.invitees.*100/);
    });
    it('the same person twice in one request', async () => void await nothingChanged(invite({
      accountId: t.north, roleKey: 'staff', invitees: [{ firstName: 'A', lastName: 'B', email: 'twice@paws.example' }, { firstName: 'C', lastName: 'D', email: 'Twice@paws.example' }],
    }), 400, /twice/));
    it('an unknown account (or one of another tenant) and an unknown role', async () => {
      const other = await tenant();
      await nothingChanged(invite(one({ firstName: 'A', lastName: 'B', email: 'a@paws.example' }, { accountId: other.north })), 400, /no account/);
      await nothingChanged(invite(one({ firstName: 'A', lastName: 'B', email: 'a@paws.example' }, { roleKey: 'wizard' })), 400, /no role wizard/);
    });
    it('someone already a member of that account (matched by e-mail or phone in the tenant), or of the other kind: 409', async () => {
      const member = await db.$transaction((tx) => createPersonInTx(tx, t.tenantId, {
        kind: 'staff', firstName: 'Mia', lastName: 'Member', email: 'mia@paws.example', phone: '+44 20 7946 0001', accountId: t.north, roleKey: 'staff',
      }, OPERATOR));
      const res = await nothingChanged(invite(one({ firstName: 'Mia', lastName: 'M', email: 'MIA@paws.example' })), 409, /already a member/);
      assert.equal(res.body.members[0].personId, member.id);
      await nothingChanged(invite(one({ firstName: 'Mia', lastName: 'M', phone: '+44 (20) 7946-0001' })), 409, /already a member/);
      await nothingChanged(invite(one({ firstName: 'Mia', lastName: 'M', email: 'mia@paws.example' }, { accountId: t.south, roleKey: 'client' })), 409, /they are staff/);
    });
    it('someone already invited to that account: 409 (resend instead)', async () => {
      assert.equal((await call('POST', '/invitations', t.owner, one({ firstName: 'Ivy', lastName: 'I', email: 'ivy@paws.example' }))).status, 201);
      await nothingChanged(invite(one({ firstName: 'Ivy', lastName: 'I', email: 'ivy@paws.example' })), 409, /already invited/);
    });
    it('no token (401), a token without invitations.manage (403), a manager inviting an owner (403)', async () => {
      const body = one({ firstName: 'A', lastName: 'B', email: 'x@paws.example' });
      await nothingChanged(invite(body, {}), 401, /credentials/);
      await nothingChanged(invite(body, tokens.bearer({ tenantId: t.tenantId, roles: ['staff'] })), 403, /invitations\.manage/);
      const manager = await db.$transaction((tx) => createPersonInTx(tx, t.tenantId, {
        kind: 'staff', firstName: 'Max', lastName: 'Manager', email: 'max@paws.example', accountId: t.north, roleKey: 'manager',
      }, OPERATOR));
      const asManager = tokens.bearer({ tenantId: t.tenantId, personId: manager.id, roles: ['manager'] });
      await nothingChanged(invite({ ...body, roleKey: 'owner' }, asManager), 403, /above your own/);
      await nothingChanged(invite({ ...body, accountId: t.south }, asManager), 403, /may not invite people into account/);
      const mine = await call('POST', '/invitations', asManager, body);
      assert.equal(mine.status, 201, 'a manager invites staff into their branch');
      await call('POST', '/invitations', t.owner, one({ firstName: 'S', lastName: 'South' }, { accountId: t.south, invitees: [{ firstName: 'S', lastName: 'South', email: 'south@paws.example' }] }));
      const listed = await call('GET', '/invitations', asManager);
      assert.ok(listed.body.items.length > 0 && listed.body.items.every((i: Json) => i.accountId === t.north), 'a manager lists the invitations of their branch only');
      const southern = (await call('GET', '/invitations', t.owner)).body.items.find((i: Json) => i.accountId === t.south);
      assert.equal((await call('GET', `/invitations/${southern.id}`, asManager)).status, 404);
      assert.equal((await call('DELETE', `/invitations/${southern.id}`, asManager)).status, 403);
    });
    it("another tenant's invitation is not found; a malformed id or status is a 400", async () => {
      const created = (await call('POST', '/invitations', t.owner, one({ firstName: 'Zoe', lastName: 'Z', email: 'zoe@paws.example' }))).body.items[0] as Json;
      const other = await tenant();
      for (const [method, path] of [['GET', ''], ['PATCH', ''], ['POST', '/resend'], ['DELETE', '']] as const) {
        const res = await nothingChanged(() => call(method, `/invitations/${created.id}${path}`, other.owner, method === 'PATCH' ? { roleKey: 'staff' } : undefined), 404, /does not exist/);
        assert.equal(res.status, 404);
      }
      await nothingChanged(() => call('GET', '/invitations/nope', t.owner), 400, /^params/);
      await nothingChanged(() => call('GET', '/invitations?status=lost', t.owner), 400, /query\.status/);
      await nothingChanged(() => call('PATCH', `/invitations/${created.id}`, t.owner, {}), 400, /accountId, roleKey or both/);
    });
  });
});
