// L7, B5: admins and owners act as a less or equally privileged user of their tenant, with a
// reason, for at most 15 minutes, with `act` in the token and both names on what they do.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { recordExpiredImpersonations } from '../src/impersonation/expiry.js';
import { startIdentity, type IdentityHarness } from './support/identity.js';

describe('identity: impersonation (Postgres)', () => {
  let h: IdentityHarness;
  const tenantId = randomUUID();
  let adminId: string;
  let admin: { accessToken: string; refreshToken: string };
  let managerId: string;
  let manager: { accessToken: string };
  let staffId: string;
  let ownerId: string;

  beforeAll(async () => {
    h = await startIdentity();
    const bootstrap = h.tokens.bearer({ tenantId, roles: ['owner'] });
    ownerId = await h.person({ tenantId, roleKey: 'owner' });
    adminId = await h.person({ tenantId, roleKey: 'admin' });
    managerId = await h.person({ tenantId, roleKey: 'manager' });
    staffId = await h.person({ tenantId, roleKey: 'staff' });
    // An owner's login comes from the operator key: nobody ranks above an owner to grant it (issue 15).
    await h.loginWithPassword(tenantId, ownerId, `own-${ownerId.slice(0, 6)}`, 'owner of it all 1');
    admin = await h.loginWithPassword(tenantId, adminId, `adm-${adminId.slice(0, 6)}`, 'admin acting soon', bootstrap);
    manager = await h.loginWithPassword(tenantId, managerId, `mgr-${managerId.slice(0, 6)}`, 'manager of things', bootstrap);
    await h.loginWithPassword(tenantId, staffId, `stf-${staffId.slice(0, 6)}`, 'staff walking dogs', bootstrap);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const impersonate = (token: string, personId: string, reason = 'customer reports a missing visit') =>
    h.call('POST', '/impersonations', { personId, reason }, h.bearer(token));

  it('an admin acts as a manager: a 15-minute token with act, no refresh token; /me names both; events carry both', async () => {
    const res = await impersonate(admin.accessToken, managerId);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.refreshToken, undefined);
    assert.ok(res.body.expiresIn <= 900);
    const claims = jwt.decode(res.body.accessToken) as { sub: string; act: { sub: string }; exp: number; iat: number; roles: string[] };
    assert.equal(claims.sub, managerId);
    assert.deepEqual(claims.act, { sub: adminId });
    assert.ok(claims.exp - claims.iat <= 900);
    assert.deepEqual(claims.roles, ['manager']);
    const me = await h.call('GET', '/me', undefined, h.bearer(res.body.accessToken));
    assert.equal(me.body.personId, managerId);
    assert.deepEqual(me.body.actor, { personId: adminId });
    const row = await h.identity.ctx.prisma.impersonation.findFirst({ where: { personId: managerId } });
    assert.equal(row?.impersonatorId, adminId);
    assert.equal(row?.reason, 'customer reports a missing visit');

    const since = h.published.length;
    const off = await h.call('PATCH', `/logins/${staffId}`, { enabled: false }, h.bearer(res.body.accessToken));
    assert.equal(off.status, 200);
    const event = await h.next('login.disabled', (e) => e.data.personId === staffId, since);
    assert.deepEqual(event.data.actor, { kind: 'person', personId: managerId, impersonatorId: adminId });
    await h.call('PATCH', `/logins/${staffId}`, { enabled: true }, h.bearer(admin.accessToken));
  });

  it('an impersonation token cannot grant logins, impersonate further, or change a password', async () => {
    const acting = (await impersonate(admin.accessToken, managerId)).body.accessToken as string;
    const someone = await h.person({ tenantId });
    assert.equal((await h.call('POST', '/logins', { personId: someone, username: `imp-${someone.slice(0, 6)}` }, h.bearer(acting))).status, 403);
    assert.equal((await h.call('POST', `/logins/${staffId}/new-password`, {}, h.bearer(acting))).status, 403);
    assert.equal((await impersonate(acting, staffId)).status, 403);
    assert.equal((await h.call('PUT', '/password', { currentPassword: 'manager of things', newPassword: 'hijacked password 1' }, h.bearer(acting))).status, 403);
    assert.equal((await h.call('POST', '/sessions', { username: `mgr-${managerId.slice(0, 6)}`, password: 'manager of things' })).status, 201, 'the password is unchanged');
  });

  it('nobody impersonates a more privileged user; a manager cannot impersonate; a reason is required; not oneself', async () => {
    assert.equal((await impersonate(admin.accessToken, ownerId)).status, 403);
    assert.equal((await impersonate(manager.accessToken, staffId)).status, 403);
    const short = await impersonate(admin.accessToken, staffId, 'because');
    assert.equal(short.status, 400);
    assert.equal((await impersonate(admin.accessToken, adminId)).status, 400);
    assert.equal((await impersonate(admin.accessToken, randomUUID())).status, 404);
  });

  it('ending the impersonation leaves the impersonated user logged in; revoking the admin ends every impersonation of theirs', async () => {
    const first = (await impersonate(admin.accessToken, staffId)).body.accessToken as string;
    const since = h.published.length;
    assert.equal((await h.call('DELETE', '/sessions/current', undefined, h.bearer(first))).status, 204);
    // Ended means ended (issue 15): the token is refused from then on, and every service is told.
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(first))).status, 401, 'the ended impersonation\'s token is refused');
    const ended = await h.next('sessions.revoked', (e) => e.data.personId === staffId, since);
    assert.equal(ended.data.sessionId, (jwt.decode(first) as { sid: string }).sid, 'only that session (the impersonation) is revoked');
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(manager.accessToken))).status, 200);
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(admin.accessToken))).status, 200, 'the admin is still signed in');

    const acting = (await impersonate(admin.accessToken, managerId)).body.accessToken as string;
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(acting))).status, 200);
    assert.equal((await h.call('DELETE', '/sessions/current', undefined, h.bearer(admin.accessToken))).status, 204);
    assert.equal((await h.call('GET', '/me', undefined, h.bearer(acting))).status, 401, "the admin's logout ends their impersonation");
  });

  it('issue 16 item 4: start, end and expiry are announced for the audit trail of both people, each end once', async () => {
    const owner = await h.call('POST', '/sessions', { username: `own-${ownerId.slice(0, 6)}`, password: 'owner of it all 1' });
    const since = h.published.length;
    const res = await impersonate(owner.body.accessToken, staffId, 'staff member cannot see visits');
    assert.equal(res.status, 201);
    const started = await h.next('impersonation.started', (e) => e.data.impersonationId === res.body.impersonationId, since);
    assert.deepEqual([started.subject, started.data.personId, started.data.impersonatorId, started.data.reason], [staffId, staffId, ownerId, 'staff member cannot see visits']);
    assert.deepEqual(started.data.actor, { kind: 'person', personId: ownerId, impersonatorId: null });
    assert.equal((await h.call('DELETE', '/sessions/current', undefined, h.bearer(res.body.accessToken))).status, 204);
    const ended = await h.next('impersonation.ended', (e) => e.data.impersonationId === res.body.impersonationId, since);
    assert.equal(ended.data.endedBy, 'logout');
    assert.deepEqual(ended.data.actor, { kind: 'person', personId: staffId, impersonatorId: ownerId });

    // One nobody ended: the sweep records its expiry once, however often it runs.
    const left = await impersonate(owner.body.accessToken, managerId, 'checking the manager view');
    const expiresAt = (await h.identity.ctx.prisma.impersonation.findUniqueOrThrow({ where: { id: left.body.impersonationId } })).expiresAt;
    const later = new Date(expiresAt.getTime() + 1000);
    assert.equal(await recordExpiredImpersonations(h.identity.ctx.prisma, new Date(expiresAt.getTime() - 1000)), 0, 'not before it expires');
    assert.ok(await recordExpiredImpersonations(h.identity.ctx.prisma, later) >= 1);
    assert.equal(await recordExpiredImpersonations(h.identity.ctx.prisma, later), 0);
    await h.identity.ctx.relay.nudge();
    const expired = await h.next('impersonation.ended', (e) => e.data.impersonationId === left.body.impersonationId, since);
    assert.deepEqual([expired.data.endedBy, expired.data.endedAt, expired.data.actor.kind], ['expiry', expiresAt.toISOString(), 'system']);
    assert.equal(h.published.slice(since).filter((e) => e.type === 'impersonation.ended').length, 2, 'the ended one is not expired again');
  });
});
