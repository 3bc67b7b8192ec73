import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { MemoryBus } from '@roster/platform/bus/index';
import { startSystem, type System } from './support/system.js';
import { tenantWithManager } from './revocation-scenario.js';
import type { ServiceName } from '@roster/contracts';

/*
 * Never a 500 (issue 15): a fuzzing pass over the services' endpoints with what the outside tester
 * sent — NUL characters and lone surrogates in every string, wrong types, empty and huge strings,
 * deep nesting, malformed JSON, tampered cursors and ids, a bogus tenant header. Every answer must
 * be a 4xx problem+json (or a success that stored nothing unstorable); a single 5xx fails the pass.
 */
type Call = { service: ServiceName; method: string; path: string; body?: unknown; raw?: string; headers?: Record<string, string> };

const NUL = 'a\u0000b';
const SURROGATE = 'x\ud800y';
const ZERO_UUID = '00000000-0000-4000-8000-000000000000';
const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { n: nested(depth - 1) });

/** Hostile variants of a valid body: each string field replaced by each hostile string, and each field's type broken. */
function variants(body: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const [key, value] of Object.entries(body)) {
    for (const bad of [NUL, SURROGATE, '', 'x'.repeat(20_000), 42, true, null, [], {}, "'; DROP TABLE person; --", '2', '0000-01-01T00:00:00Z', '-'.repeat(36)]) {
      out.push({ ...body, [key]: bad });
    }
    if (typeof value === 'object' && value !== null) out.push({ ...body, [key]: { ...(value as object), x: NUL } });
  }
  out.push({ ...body, deep: nested(200) });
  return out;
}

describe('hostile input gets a precise 4xx, never a 500 (issue 15)', () => {
  let system: System;
  let bearer: Record<string, string>;
  let rootAccountId: string;
  let tenantId: string;
  beforeAll(async () => {
    // Unknown invitation links are answered at once: this test is about input, not about a link quicker than its invitation.
    system = await startSystem({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'pglite', env: { INVITATION_LINK_WAIT_MS: '0' } });
    const t = await tenantWithManager(system);
    bearer = t.owner;
    rootAccountId = t.rootAccountId;
    tenantId = t.tenantId;
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('every endpoint, every variant: no 5xx', async () => {
    const person = { kind: 'staff', firstName: 'Fuzz', lastName: 'Tester', email: 'fuzz@example.com', phone: '+14155550123', accountId: rootAccountId, roleKey: 'staff' };
    const bodies: Array<[ServiceName, string, string, Record<string, unknown>]> = [
      ['identity', 'POST', '/sessions', { username: 'someone', password: 'a passphrase here' }],
      ['identity', 'POST', '/logins', { personId: ZERO_UUID, username: 'fuzzy' }],
      ['identity', 'PUT', '/password', { currentPassword: 'old passphrase', newPassword: 'new passphrase 123' }],
      ['identity', 'POST', '/impersonations', { personId: ZERO_UUID, reason: 'testing the fuzzer' }],
      ['identity', 'POST', `/invitations/${'t'.repeat(40)}/accept`, { firstName: 'A', lastName: 'B', phone: '+14155550123', password: 'a passphrase here', acceptTerms: true, marketingConsent: false }],
      ['directory', 'POST', '/accounts', { name: 'Branch', kind: 'branch', parentId: rootAccountId }],
      ['directory', 'POST', '/people', person],
      ['directory', 'POST', '/roles', { key: 'fuzzer', name: 'Fuzzer', permissions: ['people.read'] }],
      ['directory', 'POST', '/invitations', { accountId: rootAccountId, roleKey: 'staff', invitees: [{ firstName: 'I', lastName: 'N', email: 'in@example.com' }] }],
      ['directory', 'POST', '/scim-tokens', { name: 'okta', accountId: rootAccountId, roleKey: 'admin' }],
      ['scheduling', 'POST', '/visits', { clientId: ZERO_UUID, startsAt: '2031-01-01T10:00:00Z', endsAt: '2031-01-01T11:00:00Z' }],
      ['scheduling', 'POST', '/schedules', { clientId: ZERO_UUID, rrule: 'FREQ=WEEKLY;BYDAY=MO', timeZone: 'Europe/London', startTime: '09:00', durationMinutes: 60 }],
      ['notifications', 'PUT', '/subscriptions', { scheduleEmails: true, dailyReminder: false }],
      ['notifications', 'POST', '/monitors', { eventType: 'visits.unassigned', accountId: rootAccountId }],
    ];
    // A real person and client, so that bodies for existing resources reach the database.
    const made = await fetch(`${system.url('directory')}/people`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ ...person, email: 'target@example.com', phone: '+14155550124' }) });
    assert.equal(made.status, 201);
    const personId = ((await made.json()) as { id: string }).id;
    bodies.push(
      ['directory', 'POST', '/tenants', { name: 'Fuzz Tenant', owner: { firstName: 'O', lastName: 'W', email: 'ow@example.com' } }],
      ['directory', 'PATCH', `/people/${personId}`, { firstName: 'New', lastName: 'Name', email: 'renamed@example.com', phone: '+14155550125', defaultLandingPage: '/visits' }],
      ['directory', 'PUT', `/people/${personId}/access`, { grants: [{ accountId: rootAccountId, roleKey: 'staff' }] }],
      ['directory', 'PUT', `/accounts/${rootAccountId}/access`, { grants: [{ personId, roleKey: 'staff' }] }],
      ['directory', 'POST', `/people/${personId}/deactivate`, { reason: 'fuzzing', dryRun: true }],
      ['directory', 'PUT', `/clients/${ZERO_UUID}/assignee`, { staffId: personId }],
      ['directory', 'PATCH', '/roles/fuzzer', { name: 'Fuzzer', permissions: ['people.read'], scope: 'account' }],
      ['directory', 'PATCH', `/invitations/${ZERO_UUID}`, { roleKey: 'staff', accountId: rootAccountId }],
      ['identity', 'POST', `/logins/${personId}/new-password`, { sendTo: 'elsewhere@example.com' }],
      ['identity', 'PATCH', `/logins/${personId}`, { enabled: false }],
      ['identity', 'POST', '/sessions/refresh', { refreshToken: 'x'.repeat(43) }],
      ['identity', 'POST', '/logins:bulk', { logins: [{ personId, username: 'bulk.fuzz' }] }],
      ['scheduling', 'PATCH', `/visits/${ZERO_UUID}`, { sitterId: personId }],
      ['scheduling', 'POST', `/visits/${ZERO_UUID}/complete`, { early: true }],
      ['scheduling', 'POST', `/visits/${ZERO_UUID}/surcharges`, { amountCents: 500, reason: 'holiday' }],
      ['scheduling', 'PATCH', `/schedules/${ZERO_UUID}`, { rrule: 'FREQ=DAILY', timeZone: 'Europe/London', startTime: '10:00', durationMinutes: 30 }],
      ['scheduling', 'PUT', `/clients/${ZERO_UUID}/default-sitter`, { sitterId: personId }],
      ['scheduling', 'POST', '/requests', { kind: 'visits', clientId: personId, visits: [{ startsAt: '2031-01-01T10:00:00Z', endsAt: '2031-01-01T11:00:00Z', service: 'walk' }], note: 'fuzz', timeZone: 'Europe/London' }],
      ['scheduling', 'POST', '/requests', { kind: 'change', clientId: personId, visitId: ZERO_UUID, visits: [{ startsAt: '2031-01-01T10:00:00Z', endsAt: '2031-01-01T11:00:00Z' }] }],
      ['scheduling', 'POST', `/requests/${ZERO_UUID}/approve`, {}],
      ['scheduling', 'POST', `/requests/${ZERO_UUID}/decline`, { reason: 'fuzzing' }],
      ['notifications', 'PUT', '/templates/new_password', { subject: 'Your password', body: 'Hello {{firstName}}: {{password}}' }],
      ['notifications', 'PATCH', `/monitors/${ZERO_UUID}`, { active: false }],
      ['notifications', 'POST', '/callbacks/sms/local', { messageId: 'abc', status: 'delivered' }],
    );
    const calls: Call[] = [];
    for (const [service, method, path, body] of bodies) for (const v of variants(body)) calls.push({ service, method, path, body: v });
    for (const [service, method, path] of bodies) {
      calls.push({ service, method, path, raw: '{"unterminated": ' });
      calls.push({ service, method, path, raw: '[]' });
      calls.push({ service, method, path, raw: '"just a string"' });
    }
    const gets: Array<[ServiceName, string]> = [
      ['directory', '/people?q='], ['directory', '/people?status='], ['directory', '/audit?subjectId='], ['directory', '/accounts?cursor='],
      ['directory', '/audit?cursor='], ['directory', '/people?cursor='], ['directory', '/invitations?status='], ['directory', '/operations/'], ['directory', '/people/'],
      ['scheduling', '/visits?from='], ['scheduling', '/visits?cursor='], ['scheduling', '/visits/'], ['scheduling', '/schedules?clientId='], ['scheduling', '/clients/'],
      ['notifications', '/messages?to='], ['notifications', '/messages?cursor='], ['notifications', '/messages/'], ['notifications', '/templates/'],
      ['identity', '/usernames/availability?username='], ['directory', '/invitations/'], ['directory', '/roles?cursor='], ['directory', '/scim-tokens?x='],
      ['notifications', '/monitors?review='], ['notifications', '/subscriptions?personId='], ['scheduling', '/schedules?cursor='],
      ['scheduling', '/requests?status='], ['scheduling', '/requests?cursor='], ['scheduling', '/requests/'], ['scheduling', '/requests?clientId='],
    ];
    for (const [service, path] of gets) {
      for (const bad of ['%00', 'a%00b', '%ED%A0%80', '2', '0000-01-01', '-'.repeat(36), encodeURIComponent(Buffer.from(JSON.stringify({ id: '-'.repeat(36), at: '2' })).toString('base64url')), '%E0%A4%A', 'x'.repeat(5_000)]) {
        calls.push({ service, method: 'GET', path: `${path}${bad}` });
      }
    }
    // SCIM (B3) as an identity provider's client would misuse it, with the tenant's SCIM token.
    const issued = await fetch(`${system.url('directory')}/scim-tokens`, {
      method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fuzz', accountId: rootAccountId }),
    });
    assert.equal(issued.status, 201);
    const scim = { authorization: `Bearer ${((await issued.json()) as { token: string }).token}` };
    const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
    const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
    const created = await fetch(`${system.url('directory')}/scim/v2/Users`, {
      method: 'POST', headers: { ...scim, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [CORE], userName: 'scim.fuzz@example.com', name: { givenName: 'Scim', familyName: 'Fuzz' } }),
    });
    assert.equal(created.status, 201);
    const userId = ((await created.json()) as { id: string }).id;
    const scimBodies: Array<[string, string, Record<string, unknown>]> = [
      ['POST', '/scim/v2/Users', { schemas: [CORE], userName: 'new.fuzz@example.com', name: { givenName: 'New', familyName: 'Fuzz' }, emails: [{ value: 'new.fuzz@example.com', primary: true }], phoneNumbers: [{ value: '+14155550199' }], active: true }],
      ['PUT', `/scim/v2/Users/${userId}`, { schemas: [CORE], userName: 'scim.fuzz@example.com', name: { givenName: 'Scim', familyName: 'Fuzz' }, active: true }],
      ['PATCH', `/scim/v2/Users/${userId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.familyName', value: 'Fuzzed' }] }],
      ['POST', '/scim/v2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Fuzz Group', members: [{ value: userId }] }],
      ['PATCH', '/scim/v2/Groups/staff', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] }],
      ['PUT', '/scim/v2/Groups/staff', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Staff', members: [] }],
    ];
    for (const [method, path, body] of scimBodies) {
      for (const v of variants(body)) calls.push({ service: 'directory', method, path, body: v, headers: scim });
      calls.push({ service: 'directory', method, path, raw: '{"schemas": ', headers: scim });
    }
    for (const filter of ['meta.created gt "2"', 'userName eq', 'userName eq "a\u0000b"', '((((((((((userName pr))))))))))', 'emails[type eq "work" and value co "x"]', `userName eq "${'x'.repeat(5000)}"`, 'nosuch eq "1"']) {
      calls.push({ service: 'directory', method: 'GET', path: `/scim/v2/Users?filter=${encodeURIComponent(filter)}`, headers: scim });
    }
    calls.push({ service: 'directory', method: 'GET', path: '/scim/v2/Users?filter=userName%20sw%20%22%ED%A0%80%22', headers: scim }); // a lone surrogate
    for (const bad of ['-'.repeat(36), '%00', 'x'.repeat(5000), '2']) {
      calls.push({ service: 'directory', method: 'GET', path: `/scim/v2/Users/${bad}`, headers: scim });
      calls.push({ service: 'directory', method: 'GET', path: `/scim/v2/Groups/${bad}`, headers: scim });
      calls.push({ service: 'directory', method: 'GET', path: `/scim/v2/Users?startIndex=${bad}&count=${bad}`, headers: scim });
    }
    for (const tenant of ['-'.repeat(36), 'a\u0000b'.replace('\u0000', '%00'), 'not-a-tenant', ZERO_UUID.replace(/0/g, 'g')]) {
      calls.push({ service: 'directory', method: 'GET', path: '/people', headers: { 'x-operator-key': system.operator(tenantId)['x-operator-key']!, 'x-roster-tenant': tenant } });
    }

    const fives: string[] = [];
    const statuses = new Map<number, number>();
    for (const c of calls) {
      let res: Response;
      try {
        res = await fetch(`${system.url(c.service)}${c.path}`, {
          method: c.method,
          headers: { ...bearer, ...(c.body !== undefined || c.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers },
          ...(c.raw !== undefined ? { body: c.raw } : c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
        });
      } catch (error) {
        // A header value fetch itself refuses to send (a NUL): nothing reached the service.
        if (error instanceof TypeError && /header/i.test(String((error as Error).message))) continue;
        throw error;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = await res.text();
      if (res.status >= 500) fives.push(`${c.method} ${c.service}${c.path.slice(0, 80)} ${JSON.stringify(c.body ?? c.raw ?? '').slice(0, 120)} → ${res.status} ${text.slice(0, 200)}`);
      else if (res.status >= 400) assert.match(res.headers.get('content-type') ?? '', /problem\+json|scim\+json/, `${c.method} ${c.path}: a problem document`);
    }
    console.log(`hostile input: ${calls.length} requests, ${bodies.length + gets.length + scimBodies.length + 5} endpoints, answers ${JSON.stringify(Object.fromEntries(statuses))}, 5xx ${fives.length}`);
    assert.deepEqual(fives, [], `${fives.length} of ${calls.length} requests got a 5xx`);
  }, 600_000);
});
