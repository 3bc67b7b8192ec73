import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { startSystem, type System, type SystemOptions } from './support/system.js';
import { callOn, loginAs, PROBES, SERVICES, tenantWithManager } from './support/revocation.js';

export { callOn, loginAs, PROBES, SERVICES, tenantWithManager } from './support/revocation.js';

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
