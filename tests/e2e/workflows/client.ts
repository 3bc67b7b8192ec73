/* eslint-disable @typescript-eslint/no-explicit-any -- the APIs answer JSON of many shapes; each workflow asserts the fields it needs */
// The public HTTP APIs as a user of Roster meets them: a small client over fetch, and the steps
// every workflow starts with (a tenant, its owner logged in, people with logins).
import assert from 'node:assert/strict';
import type { ServiceName } from '@roster/contracts';
import { waitFor } from '../../../packages/platform/test/support/wait.js';
import type { System } from '../support/system.js';
import type { Mailbox } from './mailbox.js';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  /** Operator channel for this tenant (x-operator-key + x-roster-tenant). */
  operatorFor?: string;
  body?: unknown;
}

export class Roster {
  constructor(
    readonly system: System,
    readonly mailbox: Mailbox,
  ) {}

  async call<T = any>(service: ServiceName, method: string, path: string, o: CallOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.operatorFor) Object.assign(headers, this.system.operator(o.operatorFor));
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.system.url(service)}${path}`, {
      method, headers, ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  /** Asserts the status and returns the body. */
  async expect<T = any>(status: number, service: ServiceName, method: string, path: string, o: CallOptions = {}): Promise<T> {
    const reply = await this.call<T>(service, method, path, o);
    assert.equal(reply.status, status, `${method} ${service}${path} → ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body;
  }

  /** Waits until `service` answers 200 for `path`: it has projected what another service published. */
  async known(service: ServiceName, path: string, token: string): Promise<void> {
    await waitFor(`${service} to know ${path}`, async () => (await this.call(service, 'GET', path, { token })).status === 200 || null);
  }

  /** Waits until the operation is no longer pending and returns it. */
  async settled(operationId: string, token: string, timeoutMs = 10_000): Promise<any> {
    return waitFor(`operation ${operationId}`, async () => {
      const r = await this.call('directory', 'GET', `/operations/${operationId}`, { token });
      return r.status === 200 && r.body.status !== 'pending' ? r.body : null;
    }, timeoutMs);
  }

  /** Runs a cascade command (202 + operationId) and waits for it to complete. */
  async cascade(path: string, token: string, body: unknown = {}): Promise<any> {
    const { operationId } = await this.expect(202, 'directory', 'POST', path, { token, body });
    const operation = await this.settled(operationId, token);
    assert.equal(operation.status, 'completed', JSON.stringify(operation));
    return operation;
  }

  async login(username: string, password: string): Promise<{ accessToken: string; refreshToken: string; passwordChangeRequired: boolean }> {
    return this.expect(201, 'identity', 'POST', '/sessions', { body: { username, password } });
  }

  /**
   * The credentials e-mail of `email` → first login with the temporary password (it can only set
   * a new one, L3) → new password → a normal session. Returns the access token.
   */
  async firstLogin(email: string, username: string, newPassword: string, subject = /login|credentials|password/i): Promise<string> {
    const mail = await this.mailbox.waitFor(email, subject);
    const temporary = temporaryPasswordIn(mail.text);
    const first = await this.login(username, temporary);
    assert.equal(first.passwordChangeRequired, true);
    await this.expect(403, 'directory', 'GET', '/people', { token: first.accessToken });
    await this.expect(200, 'identity', 'PUT', '/password', { token: first.accessToken, body: { currentPassword: temporary, newPassword } });
    await assert.rejects(this.login(username, temporary), 'a temporary password works once');
    const session = await this.login(username, newPassword);
    assert.equal(session.passwordChangeRequired, false);
    return session.accessToken;
  }

  /** A new tenant whose owner has logged in: `{ tenantId, rootAccountId, ownerId, owner }` (owner = token). */
  async tenantWithOwner(name: string, ownerEmail: string): Promise<{ tenantId: string; rootAccountId: string; ownerId: string; owner: string }> {
    const tenant = await this.expect(201, 'directory', 'POST', '/tenants', {
      operatorFor: '00000000-0000-0000-0000-000000000000',
      body: { name, owner: { firstName: 'Olive', lastName: 'Owner', email: ownerEmail, phone: '+44 20 7946 0001' } },
    });
    const username = ownerEmail.replace(/[@.]/g, '-');
    await waitFor('identity to know the owner', async () => {
      const r = await this.call('identity', 'POST', '/logins', { operatorFor: tenant.tenantId, body: { personId: tenant.ownerId, username } });
      if (r.status === 201) return true;
      assert.equal(r.status, 404, JSON.stringify(r.body)); // not projected yet
      return null;
    });
    const owner = await this.firstLogin(ownerEmail, username, `Owner-passphrase-${name.length}-blue-kettle`);
    return { ...tenant, owner };
  }

  /** Creates a person through the directory. */
  async person(token: string, body: Record<string, unknown>): Promise<string> {
    const created = await this.expect(201, 'directory', 'POST', '/people', { token, body });
    return created.id as string;
  }

  /** Grants a login (temporary password e-mailed) once identity knows the person, and logs in. */
  async personWithLogin(token: string, personId: string, email: string, username: string): Promise<string> {
    await waitFor(`identity to know ${username}`, async () => {
      const r = await this.call('identity', 'POST', '/logins', { token, body: { personId, username } });
      if (r.status === 201) return true;
      assert.equal(r.status, 404, JSON.stringify(r.body)); // not projected yet
      return null;
    });
    return this.firstLogin(email, username, NEW_PASSWORD);
  }
}

/** The temporary password in a credentials e-mail (the line naming the password). */
export function temporaryPasswordIn(text: string): string {
  const match = /password\b[^:\n]*:\s*(\S+)/i.exec(text);
  assert.ok(match, `no password in the e-mail:\n${text}`);
  return match[1]!;
}

/** The password people in the workflows choose after their first login (passes the policy). */
export const NEW_PASSWORD = 'Correct-horse-battery-7';
