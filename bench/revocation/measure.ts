// The revocation measurement (B2), shared by bench/revocation and bench/system: deactivation
// request → the person's token refused by each of the four services, and the raw broker's own
// publish → consume latency to compare it with.
import { randomUUID } from 'node:crypto';
import type { ServiceName } from '@roster/contracts';
import { deactivation } from '../../packages/platform/test/support/events.js';
import type { System } from '../../tests/e2e/support/system.js';
import { callOn, loginAs, PROBES, SERVICES, tenantWithManager } from '../../tests/e2e/support/revocation.js';
import type { BusPath } from '../bus/adapters.js';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { signInThroughForm, startApplication } from '../../services/identity/test/support/relying-party.js';

/** Deactivations before the measured ones: JIT, connections, plans. */
const WARM_UP = 3;

/** The broker alone: one event at a time, publish() call → consumer handler start (ms). */
export async function rawLatency(path: BusPath, samples: number): Promise<number[]> {
  let waiting: { id: string; resolve: () => void } | null = null;
  await path.setup((id) => {
    if (waiting?.id === id) waiting.resolve();
  });
  const latencies: number[] = [];
  try {
      for (let i = 0; i < samples + 20; i++) {
        const event = deactivation(randomUUID(), 1, 'tenant-bench');
        const arrived = new Promise<void>((resolve) => (waiting = { id: event.id, resolve }));
        const started = performance.now();
        await path.publish([event]);
        await arrived;
        if (i >= 20) latencies.push(performance.now() - started); // the first 20 warm up
        await new Promise((r) => setTimeout(r, 5));
      }
  } finally {
    await path.teardown();
  }
  return latencies;
}

export interface Revocations {
  /** The deactivation request's own answer (202): the directory's part before anything reaches the bus. */
  answered: number[];
  /** Request → the last of the four services answers 401 (ms). */
  everywhere: number[];
  byService: Record<ServiceName, number[]>;
  /**
   * Request → the application the person had signed in to through identity's OpenID Provider
   * receives the back-channel logout token for their session (issue 17, ms).
   */
  backchannel: number[];
}

export interface RevocationOptions {
  /** Milliseconds between two probes of one service: the resolution, and the load the probes add. */
  pollMs: number;
  progress?: (message: string) => void;
}

/**
 * On a running system: `count` logged-in managers of a fresh tenant deactivated one at a time
 * (after `WARM_UP` unmeasured ones), every service polled with the manager's token until it answers 401.
 */
export async function measureRevocations(system: System, count: number, { pollMs, progress = () => undefined }: RevocationOptions): Promise<Revocations> {
  const call = callOn(system);
  const measured: Revocations = { answered: [], everywhere: [], byService: { identity: [], directory: [], scheduling: [], notifications: [] }, backchannel: [] };
  const t = await tenantWithManager(system);
  // An application registered with identity's OpenID Provider, where every person signs in before being deactivated.
  const app = await startApplication();
  const registered = await call('identity', 'POST', '/oauth/clients', { name: 'bench app', redirectUris: [`${app.base}/cb`], public: false, backchannelLogoutUri: `${app.base}/backchannel` }, t.owner);
  if (registered.status !== 201) throw new Error(`client: ${registered.status} ${JSON.stringify(registered.body)}`);
  const oidcConfig = await oidc.discovery(new URL(system.envOf('identity').PUBLIC_URL!), registered.body.clientId, registered.body.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  try {
    for (let i = 0; i < count + WARM_UP; i++) {
      const created = await call('directory', 'POST', '/people', {
        kind: 'staff', firstName: 'Bench', lastName: `Person${i}`, email: `p${i}-${randomUUID().slice(0, 6)}@example.com`, accountId: t.rootAccountId, roleKey: 'manager',
      }, t.owner);
      if (created.status !== 201) throw new Error(`person: ${created.status} ${JSON.stringify(created.body)}`);
      const username = `rev-${i}-${randomUUID().slice(0, 6)}`;
      for (let attempt = 0; ; attempt++) {
        const granted = await call('identity', 'POST', '/logins', { personId: created.body.id, username, password: 'revoke me quickly 1' }, t.owner);
        if (granted.status === 201) break;
        if (attempt > 200) throw new Error(`grant: ${granted.status} ${JSON.stringify(granted.body)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const { accessToken } = await loginAs(system, username, 'revoke me quickly 1');
      const signedIn = await signInThroughForm(oidcConfig, `${app.base}/cb`, username, 'revoke me quickly 1');
      if (!signedIn.done.stopped) throw new Error(`application sign-in: ${signedIn.done.status} ${signedIn.done.url}`);
      const headers = { authorization: `Bearer ${accessToken}` };
      for (const s of SERVICES) {
        const live = await call(s, 'GET', PROBES[s], undefined, headers);
        if (live.status === 401) throw new Error(`${s} refused a live token: ${JSON.stringify(live.body)}`);
      }
      const started = performance.now();
      const startedWall = Date.now();
      const logoutAt = (async () => {
        for (;;) {
          const received = app.logoutTokens.find((l) => decodeJwt(l.token).sub === created.body.id);
          if (received) return received.at - startedWall;
          await new Promise((r) => setTimeout(r, pollMs));
          if (performance.now() - started > 10_000) throw new Error('no back-channel logout after 10 s');
        }
      })();
      const refusedAt = SERVICES.map(async (s) => {
        for (;;) {
          if ((await fetch(`${system.url(s)}${PROBES[s]}`, { headers })).status === 401) return performance.now() - started;
          await new Promise((r) => setTimeout(r, pollMs));
          if (performance.now() - started > 10_000) throw new Error(`${s} still accepts the token after 10 s`);
        }
      });
      const res = await call('directory', 'POST', `/people/${created.body.id}/deactivate`, { reason: 'bench' }, t.owner);
      if (res.status !== 202) throw new Error(`deactivate: ${res.status} ${JSON.stringify(res.body)}`);
      const answered = performance.now() - started;
      const times = await Promise.all(refusedAt);
      const backchannel = await logoutAt;
      if (i < WARM_UP) continue;
      measured.backchannel.push(backchannel);
      measured.answered.push(answered);
      SERVICES.forEach((s, k) => measured.byService[s].push(times[k]!));
      measured.everywhere.push(Math.max(...times));
      if ((i - WARM_UP + 1) % 10 === 0) progress(`${i - WARM_UP + 1}/${count}`);
    }
  } finally {
    await app.close();
  }
  return measured;
}
