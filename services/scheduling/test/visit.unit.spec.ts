import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DomainError } from '@roster/platform/errors';
import { statusOf } from '@roster/platform/http/problem';
import type { Principal } from '@roster/platform/auth/claims';
import { BUILT_IN_ROLES } from '@roster/contracts';
import { decideVisit, type VisitActor, type VisitCommand, type VisitState } from '../src/visits/visit.js';
import { decideVisitScope, scopeCondition, VISIT_SCOPE, type CustomRole } from '../src/visits/scope.js';

const sitter = 'sitter-1';
const manager: VisitActor = { personId: 'manager-1', manages: true, completesOwn: false };
const theSitter: VisitActor = { personId: sitter, manages: false, completesOwn: true };
const anotherSitter: VisitActor = { personId: 'sitter-2', manages: false, completesOwn: true };
const begun = new Date('2030-01-07T09:00:00Z');
const now = new Date('2030-01-07T09:30:00Z');
const scheduled: VisitState = { status: 'scheduled', sitterId: sitter, startsAt: begun };
const completed: VisitState = { status: 'completed', sitterId: sitter, startsAt: begun };

const refused = (given: VisitState, when: VisitCommand, by: VisitActor, status: number) =>
  assert.throws(() => decideVisit(given, when, by), (e: unknown) => e instanceof DomainError && statusOf(e) === status);

describe('a visit decides (S1, S2): given a state, when a command, then a decision or a refusal', () => {
  it('a manager assigns, reassigns and unassigns a scheduled visit', () => {
    assert.deepEqual(decideVisit({ status: 'scheduled', sitterId: null, startsAt: begun }, { type: 'assign', sitterId: sitter }, manager), { type: 'assigned', sitterId: sitter });
    assert.deepEqual(decideVisit(scheduled, { type: 'assign', sitterId: 'sitter-2' }, manager), { type: 'assigned', sitterId: 'sitter-2' });
    assert.deepEqual(decideVisit(scheduled, { type: 'assign', sitterId: null }, manager), { type: 'unassigned' });
  });

  it('a completed visit keeps its sitter (409); a sitter does not assign (403)', () => {
    refused(completed, { type: 'assign', sitterId: 'sitter-2' }, manager, 409);
    refused(scheduled, { type: 'assign', sitterId: sitter }, theSitter, 403);
  });

  it('a sitter completes their own visit, not another sitter\'s nor an unassigned one; a manager completes any', () => {
    assert.deepEqual(decideVisit(scheduled, { type: 'complete', at: now }, theSitter), { type: 'completed', by: sitter });
    refused(scheduled, { type: 'complete', at: now }, anotherSitter, 403);
    refused({ status: 'scheduled', sitterId: null, startsAt: begun }, { type: 'complete', at: now }, theSitter, 403);
    assert.deepEqual(decideVisit({ status: 'scheduled', sitterId: null, startsAt: begun }, { type: 'complete', at: now }, manager), { type: 'completed', by: manager.personId });
  });

  it('completing twice is a conflict', () => {
    refused(completed, { type: 'complete', at: now }, theSitter, 409);
    refused(completed, { type: 'complete', at: now }, manager, 409);
  });

  it('a visit that has not started cannot be completed by its sitter; a manager only early on purpose (issue 16)', () => {
    const yearsAhead = { ...scheduled, startsAt: new Date('2033-01-07T09:00:00Z') };
    refused(yearsAhead, { type: 'complete', at: now }, theSitter, 409);
    refused(yearsAhead, { type: 'complete', at: now }, manager, 409);
    refused(yearsAhead, { type: 'complete', at: now, early: true }, theSitter, 409);
    assert.deepEqual(decideVisit(yearsAhead, { type: 'complete', at: now, early: true }, manager), { type: 'completed', by: manager.personId }, 'a manager, saying so');
    assert.throws(() => decideVisit(yearsAhead, { type: 'complete', at: now }, theSitter), /has not started yet: it starts at 2033-01-07T09:00:00.000Z/);
    assert.deepEqual(decideVisit(scheduled, { type: 'complete', at: begun }, theSitter), { type: 'completed', by: sitter }, 'from its first minute');
  });
});

const principal = (roles: string[], kind: 'client' | 'staff' = 'staff', permissions?: string[]): Principal => ({
  personId: '00000000-0000-4000-8000-000000000001', tenantId: '00000000-0000-4000-8000-0000000000aa', kind, roles,
  permissions: new Set(permissions ?? roles.flatMap((r) => [...(BUILT_IN_ROLES[r as keyof typeof BUILT_IN_ROLES]?.permissions ?? [])])),
  sessionId: 's', tokenId: 't', passwordChangeRequired: false, impersonatorId: null, issuedAtMs: 0, expiresAt: new Date(),
});

describe('who sees which visits (rule 8, P3): the scope from the token\'s roles', () => {
  const visitScopeOf = (p: Principal, custom: ReadonlyMap<string, CustomRole> = new Map()) => decideVisitScope(p, custom);
  const scope = (p: Principal, custom?: ReadonlyMap<string, CustomRole>) => {
    const s = visitScopeOf(p, custom);
    return { all: s.all, self: s.self, assignedClients: s.assignedClients, areaRoles: s.areaRoles };
  };

  it('owners, admins, managers and standard users see the tenant', () => {
    for (const role of ['owner', 'admin', 'manager', 'standard']) assert.equal(scope(principal([role])).all, true, role);
    assert.equal(scopeCondition(visitScopeOf(principal(['manager'])), VISIT_SCOPE, []), 'TRUE');
  });

  it('a salesperson sees assigned clients, a supervisor their areas, a sitter and a client themselves', () => {
    assert.deepEqual(scope(principal(['salesperson'])), { all: false, self: false, assignedClients: true, areaRoles: [] });
    assert.deepEqual(scope(principal(['supervisor'])), { all: false, self: false, assignedClients: false, areaRoles: ['supervisor'] });
    assert.deepEqual(scope(principal(['staff'])), { all: false, self: true, assignedClients: false, areaRoles: [] });
    const params: unknown[] = [];
    assert.equal(scopeCondition(visitScopeOf(principal(['client'], 'client')), VISIT_SCOPE, params), '(v.client_id = $1::uuid)');
    assert.deepEqual(params, ['00000000-0000-4000-8000-000000000001']);
  });

  it('several roles widen the scope; a token without visit permissions is refused', () => {
    assert.deepEqual(scope(principal(['salesperson', 'staff'])), { all: false, self: true, assignedClients: true, areaRoles: [] });
    assert.throws(() => visitScopeOf(principal(['staff'], 'staff', ['people.read'])), (e: unknown) => e instanceof DomainError && e.kind === 'forbidden');
  });

  it('issue 15 item 6: a custom role reaches as far as its own scope (from role.defined), as in the directory', () => {
    const roles = new Map<string, CustomRole>([
      ['dispatcher', { scope: 'account', permissions: ['visits.read'] }],
      ['closer', { scope: 'assigned_clients', permissions: ['people.read', 'visits.read'] }],
      ['area_lead', { scope: 'own_areas', permissions: ['visits.read'] }],
      ['walker', { scope: 'self', permissions: ['visits.read_own'] }],
    ]);
    assert.equal(scope(principal(['dispatcher'], 'staff', ['visits.read']), roles).all, true);
    assert.deepEqual(scope(principal(['closer'], 'staff', ['people.read', 'visits.read']), roles), { all: false, self: false, assignedClients: true, areaRoles: [] });
    assert.deepEqual(scope(principal(['area_lead'], 'staff', ['visits.read']), roles), { all: false, self: false, assignedClients: false, areaRoles: ['area_lead'] });
    assert.deepEqual(scope(principal(['walker'], 'staff', ['visits.read_own']), roles), { all: false, self: true, assignedClients: false, areaRoles: [] });
    // Not projected yet: only the caller's own, never the whole tenant.
    assert.deepEqual(scope(principal(['newcomer'], 'staff', ['visits.read'])), { all: false, self: true, assignedClients: false, areaRoles: [] });
  });
});
