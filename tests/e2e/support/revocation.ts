// The revocation scenario's building blocks (B2), shared by the tests and bench/revocation: no
// test framework here, so that a benchmark can import it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ServiceName } from '@roster/contracts';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { System } from './system.js';

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

