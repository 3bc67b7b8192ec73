// Identity's column of the cascade table (P5, P6, B1): deactivation switches the login off and
// ends sessions, archive makes the password unusable, restore leaves it unusable, reactivation
// leaves the login as it is, previews change nothing; access changes update the token's roles.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import { lifecycle, startIdentity, type IdentityHarness } from './support/identity.js';

const SYSTEM = { kind: 'system' as const, personId: null, impersonatorId: null };

describe('identity reacts to person lifecycle and access events (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  const admin = () => h.tokens.bearer({ tenantId, roles: ['admin'] });

  beforeAll(async () => {
    h = await startIdentity();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const stepFor = (correlationId: string, since: number) =>
    h.next('cascade.step.completed', (e) => e.data.operationId === correlationId, since);

  it('user.deactivated: login off, every session revoked, sessions.revoked emitted, counts in the step; refresh and login refused', async () => {
    const personId = await h.person({ tenantId });
    const username = `dee-${personId.slice(0, 6)}`;
    const s1 = await h.loginWithPassword(tenantId, personId, username, 'first device pass 1', admin());
    const s2 = await h.call('POST', '/sessions', { username, password: 'first device pass 1' });
    assert.equal(s2.status, 201);

    const operationId = randomUUID();
    const since = h.published.length;
    await h.deliver(lifecycle('user.deactivated', tenantId, personId, 2, operationId));
    const step = await stepFor(operationId, since);
    assert.equal(step.data.step, 'refuse_logins');
    assert.equal(step.data.outcome, 'applied');
    assert.deepEqual(step.data.counts, { peopleBlocked: 1, loginsDisabled: 1, sessionsRevoked: 2 });
    const revoked = await h.next('sessions.revoked', (e) => e.data.personId === personId && e.data.reason === 'deactivated', since);
    assert.equal(revoked.correlationid, operationId, 'the revocation belongs to the cascade');
    // Issue 16 item 1: switching the login off is announced like an admin's switch, so the directory's loginEnabled follows.
    const disabled = await h.next('login.disabled', (e) => e.data.personId === personId, since);
    assert.deepEqual([disabled.data.username, disabled.data.actor.kind, disabled.correlationid], [username, 'system', operationId]);

    assert.equal((await h.call('GET', '/me', undefined, h.bearer(s1.accessToken))).status, 401);
    assert.equal((await h.call('POST', '/sessions/refresh', { refreshToken: s2.body.refreshToken })).status, 401);
    assert.equal((await h.call('POST', '/sessions', { username, password: 'first device pass 1' })).status, 401, 'refused as a wrong password is (issue 15)');

    // user.reactivated: the login stays as it is (switched off), and the step says so.
    const reactivation = randomUUID();
    const since2 = h.published.length;
    await h.deliver(lifecycle('user.reactivated', tenantId, personId, 3, reactivation));
    const kept = await stepFor(reactivation, since2);
    assert.equal(kept.data.step, 'keep_login_as_is');
    assert.match(kept.data.detail ?? '', /stays as it is: switched off/);
    assert.equal((await h.call('POST', '/sessions', { username, password: 'first device pass 1' })).status, 401);
    assert.equal((await h.call('PATCH', `/logins/${personId}`, { enabled: true }, admin())).status, 200);
    assert.equal((await h.call('POST', '/sessions', { username, password: 'first device pass 1' })).status, 201);
  });

  it('a stale deactivation (older version) changes nothing and says so (rule 3)', async () => {
    const personId = await h.person({ tenantId });
    await h.deliver(lifecycle('user.deactivated', tenantId, personId, 2), lifecycle('user.reactivated', tenantId, personId, 3));
    const username = `stale-${personId.slice(0, 6)}`;
    await h.loginWithPassword(tenantId, personId, username, 'stale but alive 11', admin());
    const operationId = randomUUID();
    const since = h.published.length;
    await h.deliver(lifecycle('user.deactivated', tenantId, personId, 2, operationId));
    assert.equal((await stepFor(operationId, since)).data.outcome, 'stale_ignored');
    assert.equal((await h.call('POST', '/sessions', { username, password: 'stale but alive 11' })).status, 201);
  });

  it('user.archived: password unusable, sessions revoked, password.reset (archived); user.restored: still no usable password until a new one is issued', async () => {
    const personId = await h.person({ tenantId });
    const username = `arch-${personId.slice(0, 6)}`;
    const session = await h.loginWithPassword(tenantId, personId, username, 'archive me later 5', admin());
    const operationId = randomUUID();
    const since = h.published.length;
    await h.deliver(lifecycle('user.archived', tenantId, personId, 2, operationId));
    const step = await stepFor(operationId, since);
    assert.deepEqual(step.data.counts, { peopleBlocked: 1, passwordsReset: 1, sessionsRevoked: 1 });
    const reset = await h.next('password.reset', (e) => e.data.personId === personId, since);
    assert.equal(reset.data.reason, 'archived');
    assert.equal(reset.data.secret, null);
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(session.accessToken))).status, 401);

    const restored = randomUUID();
    const since2 = h.published.length;
    await h.deliver(lifecycle('user.restored', tenantId, personId, 3, restored));
    assert.equal((await stepFor(restored, since2)).data.step, 'require_new_password');
    assert.equal((await h.call('POST', '/sessions', { username, password: 'archive me later 5' })).status, 401, 'the old password is gone');

    const since3 = h.published.length;
    const issued = await h.call('POST', `/logins/${personId}/new-password`, {}, admin());
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const fresh = await h.next('password.reset', (e) => e.data.personId === personId && e.data.reason === 'new_password', since3);
    assert.equal(fresh.data.delivery?.template, 'new_password');
    const temporary = h.unseal(fresh.data.secret!);
    const login = await h.call('POST', '/sessions', { username, password: temporary });
    assert.equal(login.status, 201);
    assert.equal(login.body.passwordChangeRequired, true);
  });

  it('B1: a dry run reports what a deactivation would do and changes nothing', async () => {
    const personId = await h.person({ tenantId });
    const username = `prev-${personId.slice(0, 6)}`;
    const session = await h.loginWithPassword(tenantId, personId, username, 'preview only pass 3', admin());
    const operationId = randomUUID();
    const since = h.published.length;
    await h.deliver(createEvent('directory', {
      type: 'cascade.preview_requested', subject: personId, tenantId, correlationId: operationId,
      data: { action: 'deactivate', personId, kind: 'staff', roleKeys: ['staff'] },
    }));
    const step = await stepFor(operationId, since);
    assert.equal(step.data.outcome, 'previewed');
    assert.equal(step.data.dryRun, true);
    assert.deepEqual(step.data.counts, { peopleBlocked: 1, loginsDisabled: 1, sessionsRevoked: 1 });
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(session.accessToken))).status, 200, 'nothing was revoked');
    assert.equal(h.published.slice(since).filter((e) => e.type === 'sessions.revoked').length, 0);
  });

  it('access.granted / role.changed / access.revoked: the next tokens carry the current roles; the step is recorded', async () => {
    const personId = await h.person({ tenantId, roleKey: 'staff' });
    const username = `acc-${personId.slice(0, 6)}`;
    const session = await h.loginWithPassword(tenantId, personId, username, 'roles will change 9', admin());
    const branch = randomUUID();
    const granted = randomUUID();
    let since = h.published.length;
    await h.deliver(createEvent('directory', {
      type: 'access.granted', subject: personId, tenantId, correlationId: granted,
      data: { personId, accountId: branch, roleKey: 'manager', actor: SYSTEM },
    }));
    assert.equal((await stepFor(granted, since)).data.step, 'update_token_roles');
    const refreshed = await h.call('POST', '/sessions/refresh', { refreshToken: session.refreshToken });
    assert.deepEqual((await h.call('GET', '/me', undefined, h.bearer(refreshed.body.accessToken))).body.roles.sort(), ['manager', 'staff']);

    const changed = randomUUID();
    since = h.published.length;
    await h.deliver(createEvent('directory', {
      type: 'role.changed', subject: personId, tenantId, correlationId: changed,
      data: { personId, accountId: branch, fromRoleKey: 'manager', toRoleKey: 'standard', notBefore: new Date().toISOString(), actor: SYSTEM },
    }));
    const step = await stepFor(changed, since);
    assert.deepEqual(step.data.counts, { membershipsChanged: 1, loginsAffected: 1 });
    await h.next('sessions.revoked', (e) => e.data.personId === personId && e.data.reason === 'access_changed', since);
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(refreshed.body.accessToken))).status, 401, 'the token with the old role is refused');
    const again = await h.call('POST', '/sessions/refresh', { refreshToken: refreshed.body.refreshToken });
    assert.equal(again.status, 200, 'the session itself survives a role change');
    assert.deepEqual((await h.call('GET', '/me', undefined, h.bearer(again.body.accessToken))).body.roles.sort(), ['staff', 'standard']);

    const revoked = randomUUID();
    since = h.published.length;
    await h.deliver(createEvent('directory', {
      type: 'access.revoked', subject: personId, tenantId, correlationId: revoked,
      data: { personId, accountId: branch, roleKey: 'standard', notBefore: new Date().toISOString(), actor: SYSTEM },
    }));
    await stepFor(revoked, since);
    const last = await h.call('POST', '/sessions/refresh', { refreshToken: again.body.refreshToken });
    assert.deepEqual((await h.call('GET', '/me', undefined, h.bearer(last.body.accessToken))).body.roles, ['staff']);
  });

  it('role.defined: a custom role\'s permissions go into the token', async () => {
    const personId = await h.person({ tenantId, roleKey: 'night_dispatcher' });
    await h.deliver(createEvent('directory', {
      type: 'role.defined', subject: 'night_dispatcher', tenantId, correlationId: randomUUID(),
      data: { roleKey: 'night_dispatcher', name: 'Night dispatcher', permissions: ['visits.manage', 'visits.read'], scope: 'account', rank: 50, actor: SYSTEM },
    }));
    const session = await h.loginWithPassword(tenantId, personId, `night-${personId.slice(0, 6)}`, 'dispatching at night', admin());
    const me = await h.call('GET', '/me', undefined, h.bearer(session.accessToken));
    assert.deepEqual(me.body.roles, ['night_dispatcher']);
    assert.deepEqual(me.body.permissions, ['visits.manage', 'visits.read']);
  });
});
