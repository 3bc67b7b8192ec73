// A real identity service on Postgres and an in-memory bus, fed with the directory's events the
// way the bus would deliver them, and a log of what identity publishes.
import { randomUUID } from 'node:crypto';
import { createEvent, type EventEnvelope, type EventType, type RosterEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { open, parseSealingPrivateKeys } from '@roster/platform/crypto/sealing';
import type { Logger } from '@roster/platform/logging';
import { startService, type RunningService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../../packages/platform/test/support/postgres.js';
import { testTokens, type TestTokens } from '../../../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../../../packages/platform/test/support/wait.js';
import type { IdentityDb } from '../../src/db/client.js';
import { identityService } from '../../src/service.js';

export const OPERATOR_KEY = 'identity-test-operator-key-0123';
const SYSTEM_ACTOR = { kind: 'system' as const, personId: null, impersonatorId: null };

export interface Reply {
  status: number;
  type: string;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface PersonSeed {
  tenantId: string;
  kind?: 'client' | 'staff';
  roleKey?: string | null;
  accountId?: string;
  firstName?: string;
  lastName?: string;
  email?: string | null;
  phone?: string | null;
}

export interface IdentityHarness {
  identity: RunningService<IdentityDb>;
  bus: MemoryBus;
  tokens: TestTokens;
  database: TestDatabase;
  /** Every event identity published, in order. */
  published: EventEnvelope[];
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  operator(tenantId: string): Record<string, string>;
  bearer(token: string): Record<string, string>;
  /** Delivers directory events to identity and waits until its inbox has them. */
  deliver(...events: RosterEvent[]): Promise<void>;
  /** A person as the directory announces it (user.created); returns the person id. */
  person(seed: PersonSeed): Promise<string>;
  account(tenantId: string, kind: 'root' | 'branch' | 'client_account' | 'area', parentId: string | null, name?: string): Promise<string>;
  /** The next event of `type` published after `since` (an index in `published`) matching `match`. */
  next<T extends EventType>(type: T, match?: (e: Extract<RosterEvent, { type: T }>) => boolean, since?: number): Promise<Extract<RosterEvent, { type: T }>>;
  /** Opens a sealed secret the way notifications does. */
  unseal(secret: { kid: string; alg: string; ciphertext: string }): string;
  /** Grants a login (operator for owners, else `headers`) and returns the temporary password from the event. */
  grant(tenantId: string, personId: string, username: string, headers?: Record<string, string>): Promise<string>;
  /** Grants, logs in with the temporary password, sets `password`; returns a session. */
  loginWithPassword(tenantId: string, personId: string, username: string, password: string, headers?: Record<string, string>): Promise<{ accessToken: string; refreshToken: string }>;
  stop(): Promise<void>;
}

export async function startIdentity(options: { env?: Record<string, string>; logger?: Logger; database?: TestDatabase; tokens?: TestTokens } = {}): Promise<IdentityHarness> {
  const database = options.database ?? (await createTestDatabase('roster_identity'));
  const tokens = options.tokens ?? testTokens();
  const bus = new MemoryBus();
  const published: EventEnvelope[] = [];
  await bus.subscribe({ group: 'test-watcher', types: ['login.granted', 'login.enabled', 'login.disabled', 'password.reset', 'sessions.revoked', 'cascade.step.completed', 'invitation.accepted', 'impersonation.started', 'impersonation.ended'], handler: async (e) => void published.push(e) });
  const identity = await startService(identityService, {
    bus,
    ...(options.logger ? { logger: options.logger } : {}),
    env: {
      PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: 'silent', ROSTER_OPERATOR_KEY: OPERATOR_KEY,
      ...tokens.env, ...options.env,
    },
  });
  const privateKeys = parseSealingPrivateKeys(tokens.env.NOTIFICATIONS_SEALING_PRIVATE_KEYS);

  const call: IdentityHarness['call'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${identity.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: parsed };
  };

  const handled = async (id: string) => (await identity.ctx.prisma.inboxMessage.count({ where: { eventId: id } })) > 0;
  const deliver: IdentityHarness['deliver'] = async (...events) => {
    await bus.publish(events);
    for (const e of events) await waitFor(`identity to handle ${e.type}`, () => handled(e.id));
  };

  const versions = new Map<string, number>();
  const person: IdentityHarness['person'] = async (seed) => {
    const personId = randomUUID();
    const kind = seed.kind ?? 'staff';
    versions.set(personId, 1);
    await deliver(createEvent('directory', {
      type: 'user.created', subject: personId, tenantId: seed.tenantId, correlationId: randomUUID(), subjectVersion: 1,
      data: {
        personId, kind, firstName: seed.firstName ?? 'Sam', lastName: seed.lastName ?? 'Sitter',
        email: seed.email === undefined ? `${personId.slice(0, 8)}@example.com` : seed.email, phone: seed.phone ?? null,
        accountId: seed.accountId ?? randomUUID(), roleKey: kind === 'client' ? null : seed.roleKey ?? 'staff', actor: SYSTEM_ACTOR,
      },
    }));
    return personId;
  };

  const account: IdentityHarness['account'] = async (tenantId, kind, parentId, name = kind) => {
    const accountId = randomUUID();
    await deliver(createEvent('directory', {
      type: 'account.created', subject: accountId, tenantId, correlationId: randomUUID(),
      data: { accountId, name, kind, parentId, actor: SYSTEM_ACTOR },
    }));
    return accountId;
  };

  const next: IdentityHarness['next'] = async (type, match = () => true, since = 0) =>
    waitFor(`identity to publish ${type}`, () =>
      published.slice(since).find((e) => e.type === type && match(e as never)) as never,
    );

  const unseal: IdentityHarness['unseal'] = (secret) => open(privateKeys, secret);

  const grant: IdentityHarness['grant'] = async (tenantId, personId, username, headers) => {
    const since = published.length;
    const res = await call('POST', '/logins', { personId, username }, headers ?? { 'x-operator-key': OPERATOR_KEY, 'x-roster-tenant': tenantId });
    if (res.status !== 201) throw new Error(`grant failed: ${res.status} ${JSON.stringify(res.body)}`);
    const granted = await next('login.granted', (e) => e.data.personId === personId, since);
    return unseal(granted.data.secret!);
  };

  const loginWithPassword: IdentityHarness['loginWithPassword'] = async (tenantId, personId, username, password, headers) => {
    const temporary = await grant(tenantId, personId, username, headers);
    const first = await call('POST', '/sessions', { username, password: temporary });
    if (first.status !== 201) throw new Error(`login failed: ${first.status} ${JSON.stringify(first.body)}`);
    const since = published.length;
    const set = await call('PUT', '/password', { newPassword: password }, { authorization: `Bearer ${first.body.accessToken}` });
    if (set.status !== 200) throw new Error(`password change failed: ${set.status} ${JSON.stringify(set.body)}`);
    // Its events (sessions.revoked, then password.reset in the same transaction) are out before the caller goes on.
    await next('password.reset', (e) => e.data.personId === personId && e.data.reason === 'changed', since);
    return set.body;
  };

  return {
    identity, bus, tokens, database, published, call, deliver, person, account, next, unseal, grant, loginWithPassword,
    operator: (tenantId) => ({ 'x-operator-key': OPERATOR_KEY, 'x-roster-tenant': tenantId }),
    bearer: (token) => ({ authorization: `Bearer ${token}` }),
    stop: async () => {
      await identity.stop();
      await bus.close();
      if (!options.database) await database.drop();
    },
  };
}

/** A person lifecycle event as the directory publishes it. */
export function lifecycle(
  type: 'user.deactivated' | 'user.reactivated' | 'user.archived' | 'user.restored', tenantId: string, personId: string, version: number,
  correlationId = randomUUID(),
): RosterEvent {
  return createEvent('directory', {
    type, subject: personId, tenantId, correlationId, subjectVersion: version,
    data: { personId, kind: 'staff', roleKeys: ['staff'], reason: null, actor: SYSTEM_ACTOR },
  }) as RosterEvent;
}
