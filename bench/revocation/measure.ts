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

/** A logged-in manager, signed in to an application through identity's OpenID Provider, ready to be deactivated. */
interface Subject { personId: string; headers: Record<string, string> }

/**
 * A fresh tenant, an application registered with identity's OpenID Provider, and `count` managers
 * each with a login, a token and a session in that application: what a revocation takes away.
 * Prepared before anything is measured, so that a measurement under load times only the revocation.
 */
export async function revocationSubjects(system: System, count: number) {
  const call = callOn(system);
  const t = await tenantWithManager(system);
  const app = await startApplication();
  try {
    const registered = await call('identity', 'POST', '/oauth/clients', { name: 'bench app', redirectUris: [`${app.base}/cb`], public: false, backchannelLogoutUri: `${app.base}/backchannel` }, t.owner);
    if (registered.status !== 201) throw new Error(`client: ${registered.status} ${JSON.stringify(registered.body)}`);
    const oidcConfig = await oidc.discovery(new URL(system.envOf('identity').PUBLIC_URL!), registered.body.clientId, registered.body.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const subjects: Subject[] = [];
    for (let i = 0; i < count; i++) {
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
      subjects.push({ personId: created.body.id, headers });
    }
    return { subjects, owner: t.owner, app };
  } catch (error) {
    await app.close();
    throw error;
  }
}

type Prepared = Awaited<ReturnType<typeof revocationSubjects>>;

/** One subject deactivated: request → its 202, → each service's 401, → the application's back-channel logout. */
async function revoke(system: System, prepared: Prepared, subject: Subject, pollMs: number) {
  const call = callOn(system);
  const started = performance.now();
  const startedWall = Date.now();
  const logoutAt = (async () => {
    for (;;) {
      const received = prepared.app.logoutTokens.find((l) => decodeJwt(l.token).sub === subject.personId);
      if (received) return received.at - startedWall;
      await new Promise((r) => setTimeout(r, pollMs));
      if (performance.now() - started > 30_000) throw new Error('no back-channel logout after 30 s');
    }
  })();
  const refusedAt = SERVICES.map(async (s) => {
    for (;;) {
      if ((await fetch(`${system.url(s)}${PROBES[s]}`, { headers: subject.headers })).status === 401) return performance.now() - started;
      await new Promise((r) => setTimeout(r, pollMs));
      if (performance.now() - started > 30_000) throw new Error(`${s} still accepts the token after 30 s`);
    }
  });
  const res = await call('directory', 'POST', `/people/${subject.personId}/deactivate`, { reason: 'bench' }, prepared.owner);
  if (res.status !== 202) throw new Error(`deactivate: ${res.status} ${JSON.stringify(res.body)}`);
  const answered = performance.now() - started;
  const times = await Promise.all(refusedAt);
  return { answered, times, backchannel: await logoutAt };
}

/**
 * Deactivates the prepared subjects one at a time, every service polled with the subject's token
 * until it answers 401; the first `warmUp` are not measured; stops early once `until()` is true.
 */
export async function revokeOneByOne(system: System, prepared: Prepared, o: RevocationOptions & { warmUp?: number; until?: () => boolean }): Promise<Revocations> {
  const measured: Revocations = { answered: [], everywhere: [], byService: { identity: [], directory: [], scheduling: [], notifications: [] }, backchannel: [] };
  const warmUp = o.warmUp ?? 0;
  for (const [i, subject] of prepared.subjects.entries()) {
    if (o.until?.()) break;
    const r = await revoke(system, prepared, subject, o.pollMs);
    if (i < warmUp) continue;
    measured.backchannel.push(r.backchannel);
    measured.answered.push(r.answered);
    SERVICES.forEach((s, k) => measured.byService[s].push(r.times[k]!));
    measured.everywhere.push(Math.max(...r.times));
    if ((i - warmUp + 1) % 10 === 0) o.progress?.(`${i - warmUp + 1}/${prepared.subjects.length - warmUp}`);
  }
  return measured;
}

/**
 * On a running system: `count` logged-in managers of a fresh tenant deactivated one at a time
 * (after `WARM_UP` unmeasured ones), every service polled with the manager's token until it answers 401.
 */
export async function measureRevocations(system: System, count: number, options: RevocationOptions): Promise<Revocations> {
  const prepared = await revocationSubjects(system, count + WARM_UP);
  try {
    return await revokeOneByOne(system, prepared, { ...options, warmUp: WARM_UP });
  } finally {
    await prepared.app.close();
  }
}
