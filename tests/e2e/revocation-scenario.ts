import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { ServiceName } from '@roster/contracts';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { startSystem, type System, type SystemOptions } from './support/system.js';

/** One authenticated endpoint per service: a live token of a manager gets anything but 401 there. */
export const PROBES: Record<ServiceName, string> = {
  identity: '/me',
  directory: '/people?limit=1',
  scheduling: '/visits?limit=1',
  notifications: '/messages?limit=1',
};
export const SERVICES: ServiceName[] = ['identity', 'directory', 'scheduling', 'notifications'];

export interface Reply { status: number; body: any } // eslint-disable-line @typescript-eslint/no-explicit-any

export const callOn = (system: System) => async (service: ServiceName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
  const res = await fetch(`${system.url(service)}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

/**
 * A tenant provisioned through the directory, its owner's login granted by the operator and
 * used for real, and a manager with a login: what the revocation tests and the bench start from.
 */
export async function tenantWithManager(system: System, managerPassword = 'manager passphrase 2026', timeoutMs = 15_000) {
  const call = callOn(system);
  const tenant = await call('directory', 'POST', '/tenants', {
    name: 'Paws & Co', owner: { firstName: 'Olive', lastName: 'Owner', email: `olive-${randomUUID().slice(0, 6)}@example.com` },
  }, { 'x-operator-key': system.operator(randomUUID())['x-operator-key']! });
  assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
  const { tenantId, rootAccountId, ownerId } = tenant.body as { tenantId: string; rootAccountId: string; ownerId: string };
  const ownerName = `owner-${tenantId.slice(0, 8)}`;
  const ownerPassword = 'owner passphrase 2026';
  // The owner becomes known to identity through user.created; until then the grant is a 404.
  await waitFor('identity to know the owner', async () =>
    (await call('identity', 'POST', '/logins', { personId: ownerId, username: ownerName, password: ownerPassword }, system.operator(tenantId))).status === 201, timeoutMs, 50);
  const ownerSession = await call('identity', 'POST', '/sessions', { username: ownerName, password: ownerPassword });
  assert.equal(ownerSession.status, 201, JSON.stringify(ownerSession.body));
  const owner = { authorization: `Bearer ${ownerSession.body.accessToken}` };

  const created = await call('directory', 'POST', '/people', {
    kind: 'staff', firstName: 'Max', lastName: 'Manager', email: `max-${tenantId.slice(0, 6)}@example.com`, accountId: rootAccountId, roleKey: 'manager',
  }, owner);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const managerId = created.body.id as string;
  const managerName = `max-${tenantId.slice(0, 8)}`;
  await waitFor('identity to know the manager', async () =>
    (await call('identity', 'POST', '/logins', { personId: managerId, username: managerName, password: managerPassword }, owner)).status === 201, timeoutMs, 50);
  return { tenantId, rootAccountId, ownerId, owner, managerId, managerName, managerPassword };
}

export async function loginAs(system: System, username: string, password: string) {
  const res = await callOn(system)('identity', 'POST', '/sessions', { username, password });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { accessToken: string; refreshToken: string };
}

/** B2 across the four services, on one transport. */
export function revocationScenario(name: string, options: () => Promise<SystemOptions>, timeoutMs = 15_000): void {
  describe(`revocation everywhere on ${name} (B2, rule 7)`, () => {
    let system: System;
    let call: ReturnType<typeof callOn>;
    beforeAll(async () => {
      system = await startSystem(await options());
      call = callOn(system);
    });
    afterAll(async () => {
      await system?.stop();
    });

    const statusEverywhere = async (token: string) =>
      Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, (await call(s, 'GET', PROBES[s], undefined, { authorization: `Bearer ${token}` })).status] as const)));

    const refusedEverywhere = async (token: string) => {
      let last: Record<string, number> = {};
      try {
        return await waitFor('every service to refuse the token', async () => {
          last = await statusEverywhere(token);
          return Object.values(last).every((s) => s === 401) ? last : null;
        }, timeoutMs, 10);
      } catch (error) {
        throw new Error(`${(error as Error).message}; last answers ${JSON.stringify(last)}`);
      }
    };

    it('a deactivated manager\'s token, issued by a real login, is refused by all four services; the refresh token and the password too', async () => {
      const t = await tenantWithManager(system, undefined, timeoutMs);
      const session = await loginAs(system, t.managerName, t.managerPassword);
      const live = await statusEverywhere(session.accessToken);
      for (const s of SERVICES) assert.notEqual(live[s], 401, `${s} accepts the live token (${JSON.stringify(live)})`);

      const started = performance.now();
      const res = await call('directory', 'POST', `/people/${t.managerId}/deactivate`, { reason: 'left' }, t.owner);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.deepEqual(await refusedEverywhere(session.accessToken), { identity: 401, directory: 401, scheduling: 401, notifications: 401 });
      // Speed is the bench's business (bench/revocation); this says what this run saw.
      console.log(`refused everywhere ${Math.round(performance.now() - started)} ms after the deactivation request`);

      await waitFor('identity to switch the login off', async () =>
        (await call('identity', 'POST', '/sessions/refresh', { refreshToken: session.refreshToken })).status === 401, timeoutMs);
      const again = await call('identity', 'POST', '/sessions', { username: t.managerName, password: t.managerPassword });
      assert.equal(again.status, 401, 'logging in again is refused, as with a wrong password (issue 15)');
      assert.equal(again.body.type, 'https://roster.dev/problems/invalid-credentials');
      const owner = await statusEverywhere(t.owner.authorization.slice('Bearer '.length));
      for (const s of SERVICES) assert.notEqual(owner[s], 401, `the owner's token still works on ${s}`);
    });

    it('L6: switching a login off revokes its tokens in every service without touching the person', async () => {
      const t = await tenantWithManager(system, undefined, timeoutMs);
      const session = await loginAs(system, t.managerName, t.managerPassword);
      const off = await call('identity', 'PATCH', `/logins/${t.managerId}`, { enabled: false }, t.owner);
      assert.equal(off.status, 200, JSON.stringify(off.body));
      await refusedEverywhere(session.accessToken);
      const person = await call('directory', 'GET', `/people/${t.managerId}`, undefined, t.owner);
      assert.equal(person.body.status, 'active', 'the profile stays active');
      const on = await call('identity', 'PATCH', `/logins/${t.managerId}`, { enabled: true }, t.owner);
      assert.equal(on.status, 200);
      const fresh = await loginAs(system, t.managerName, t.managerPassword);
      const live = await statusEverywhere(fresh.accessToken);
      for (const s of SERVICES) assert.notEqual(live[s], 401, `${s} accepts the new token`);
    });

    it('logging out ends that session everywhere and no other (issue 16); an ended impersonation is refused everywhere (issue 15, B5)', async () => {
      const t = await tenantWithManager(system, undefined, timeoutMs);
      const laptop = await loginAs(system, t.managerName, t.managerPassword);
      const phone = await loginAs(system, t.managerName, t.managerPassword);
      const acting = await call('identity', 'POST', '/impersonations', { personId: t.managerId, reason: 'checking a support ticket' }, t.owner);
      assert.equal(acting.status, 201, JSON.stringify(acting.body));

      assert.equal((await call('identity', 'DELETE', '/sessions/current', undefined, { authorization: `Bearer ${laptop.accessToken}` })).status, 204);
      await refusedEverywhere(laptop.accessToken);
      const stillSignedIn = await statusEverywhere(phone.accessToken);
      for (const s of SERVICES) assert.notEqual(stillSignedIn[s], 401, `the phone's session still works on ${s}`);
      assert.equal((await call('identity', 'POST', '/sessions/refresh', { refreshToken: laptop.refreshToken })).status, 401, "the laptop's refresh token is dead");
      assert.equal((await call('identity', 'POST', '/sessions/refresh', { refreshToken: phone.refreshToken })).status, 200, "the phone's still refreshes");

      const started = performance.now();
      assert.equal((await call('identity', 'DELETE', '/sessions/current', undefined, { authorization: `Bearer ${acting.body.accessToken}` })).status, 204);
      await refusedEverywhere(acting.body.accessToken);
      assert.ok(performance.now() - started < 1_000 || timeoutMs > 15_000, `the ended impersonation was refused everywhere within ${Math.round(performance.now() - started)} ms`);
      const owner = await statusEverywhere(t.owner.authorization.slice('Bearer '.length));
      for (const s of SERVICES) assert.notEqual(owner[s], 401, `the impersonating owner is still signed in on ${s}`);
    });
  });
}
