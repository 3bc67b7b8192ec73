// A directory on a fresh Postgres database with a memory bus, token signing keys, and helpers to
// call it as someone and to watch what it publishes.
import { randomUUID } from 'node:crypto';
import { createEvent, type EventType, type RosterEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { startService, type RunningService } from '@roster/platform/service';
import { createTestDatabase, type TestDatabase } from '../../../../packages/platform/test/support/postgres.js';
import { testTokens, type TestTokens } from '../../../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../../../packages/platform/test/support/wait.js';
import type { DirectoryDb } from '../../src/db/client.js';
import { directoryService } from '../../src/service.js';

export const OPERATOR_KEY = 'operator-key-for-directory-tests';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, asserted field by field
export interface Reply<T = any> { status: number; type: string; body: T }

export interface Who { tenantId: string; personId: string; roles: string[]; permissions?: string[]; impersonatorId?: string | null }

export interface DirectoryUnderTest {
  service: RunningService<DirectoryDb>;
  bus: MemoryBus;
  tokens: TestTokens;
  /** Every event the directory published, in order. */
  published: RosterEvent[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Reply
  call<T = any>(who: Who | 'operator' | null, method: string, path: string, body?: unknown, tenantId?: string): Promise<Reply<T>>;
  tenant(name?: string): Promise<{ tenantId: string; rootAccountId: string; ownerId: string; owner: Who }>;
  /** Waits until everything committed so far is published; returns the position to read events from. */
  mark(): Promise<number>;
  /** Waits until the relay has published everything committed, then returns events of `types` since `from`. */
  eventsSince(from: number, ...types: EventType[]): Promise<RosterEvent[]>;
  /** Publishes a cascade step as another service would, for an operation's event. */
  step(cause: RosterEvent, service: 'identity' | 'scheduling' | 'notifications'): Promise<void>;
  count(sql: string, ...params: unknown[]): Promise<number>;
  stop(): Promise<void>;
}

export async function startDirectory(prefix: string): Promise<DirectoryUnderTest> {
  const database: TestDatabase = await createTestDatabase(prefix);
  const bus = new MemoryBus();
  const tokens = testTokens();
  const service = await startService(directoryService, {
    bus,
    env: { ...tokens.env, PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', ROSTER_OPERATOR_KEY: OPERATOR_KEY, LOG_LEVEL: process.env.DIRECTORY_TEST_LOG ?? 'silent' },
  });
  const published: RosterEvent[] = [];
  await bus.subscribe({ group: 'watcher', types: [
    'user.created', 'user.updated', 'user.deactivated', 'user.reactivated', 'user.archived', 'user.restored', 'access.granted',
    'access.revoked', 'role.changed', 'account.created', 'role.defined', 'client.assigned', 'cascade.preview_requested',
  ], handler: async (e) => void published.push(e) });

  const call: DirectoryUnderTest['call'] = async (who, method, path, body, tenantId) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (who === 'operator') Object.assign(headers, { 'x-operator-key': OPERATOR_KEY, ...(tenantId ? { 'x-roster-tenant': tenantId } : {}) });
    else if (who) Object.assign(headers, tokens.bearer({ ...who, impersonatorId: who.impersonatorId ?? null } as never));
    const res = await fetch(`${service.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  };
  const unpublished = async () => {
    const rows = await service.ctx.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    return rows[0]!.n;
  };
  const drained = async () => {
    service.ctx.relay.nudge();
    await waitFor('the outbox to drain', async () => (await unpublished()) === 0);
    await new Promise((r) => setTimeout(r, 30));
  };
  return {
    service, bus, tokens, published, call,
    async tenant(name = 'Paws & Co') {
      const email = `owner-${randomUUID().slice(0, 8)}@example.com`;
      const res = await call('operator', 'POST', '/tenants', { name, owner: { firstName: 'Olive', lastName: 'Owner', email } });
      if (res.status !== 201) throw new Error(`tenant not provisioned: ${res.status} ${JSON.stringify(res.body)}`);
      return { ...res.body, owner: { tenantId: res.body.tenantId, personId: res.body.ownerId, roles: ['owner'] } };
    },
    async mark() {
      await drained();
      return published.length;
    },
    async eventsSince(from, ...types) {
      await drained();
      return published.slice(from).filter((e) => types.length === 0 || types.includes(e.type));
    },
    async step(cause, serviceName) {
      await bus.publish([createEvent(serviceName, {
        type: 'cascade.step.completed', subject: cause.correlationid, tenantId: cause.tenantid, correlationId: cause.correlationid,
        data: {
          operationId: cause.correlationid, service: serviceName, step: 'apply', outcome: 'applied', counts: { things: 1 }, durationMs: 1,
          causeEventId: cause.id, causeType: cause.type, dryRun: false, detail: null,
        },
      })]);
    },
    async count(sql, ...params) {
      const rows = await service.ctx.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM (${sql}) AS q`, ...params);
      return rows[0]!.n;
    },
    async stop() {
      await service.stop();
      await database.drop();
    },
  };
}
