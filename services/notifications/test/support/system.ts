// Notifications on a real Postgres database, the in-memory bus, a real SMTP server, test tokens;
// and builders of the events other services publish.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import { createEvent, type EventData, type EventOf, type EventType, type RosterEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { parseSealingPublicKey, seal } from '@roster/platform/crypto/sealing';
import { startService, type RunningService } from '@roster/platform/service';
import type { NotificationsDb } from '../../src/db/client.js';
import { notificationsService } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../../../../packages/platform/test/support/postgres.js';
import { testTokens, type TestTokens } from '../../../../packages/platform/test/support/tokens.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

export const SYSTEM = { kind: 'system', personId: null, impersonatorId: null } as const;

export interface NotificationsSystem {
  bus: MemoryBus;
  database: TestDatabase;
  tokens: TestTokens;
  service: RunningService<NotificationsDb>;
  /** Events notifications published (from the bus). */
  published: RosterEvent[];
  /** Starts another replica on the same database and bus. */
  replica(env?: Record<string, string>): Promise<RunningService<NotificationsDb>>;
  publish(...events: RosterEvent[]): Promise<void>;
  seal(secret: string): ReturnType<typeof seal>;
  stop(): Promise<void>;
}

export async function startNotifications(env: Record<string, string> = {}): Promise<NotificationsSystem> {
  const database = await createTestDatabase('roster_notifications');
  const bus = new MemoryBus();
  const tokens = testTokens();
  const published: RosterEvent[] = [];
  await bus.subscribe({
    group: 'watcher', types: ['notification.sent', 'notification.failed', 'cascade.step.completed'],
    handler: async (e) => void published.push(e),
  });
  const baseEnv = { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...tokens.env, ...env };
  const replicas: RunningService<NotificationsDb>[] = [];
  const start = async (more: Record<string, string> = {}) => {
    const s = await startService(notificationsService, { bus, env: { ...baseEnv, ...more } });
    replicas.push(s);
    return s;
  };
  const service = await start();
  const sealingKey = parseSealingPublicKey(tokens.env.SEALING_PUBLIC_KEY);
  return {
    bus, database, tokens, service, published,
    replica: start,
    publish: (...events) => bus.publish(events),
    seal: (secret) => seal(sealingKey, secret),
    stop: async () => {
      for (const r of replicas) await r.stop();
      // pg's pool.end() resolves once its clients are told to end, not once their sockets closed;
      // dropping the database WITH (FORCE) at that instant makes a closing client emit an uncaught error.
      await new Promise((r) => setTimeout(r, 200));
      await database.drop();
    },
  };
}

/** An event as another service would publish it. */
export function event<T extends EventType>(type: T, tenantId: string, subject: string, data: EventData<T>, more: { subjectVersion?: number; correlationId?: string } = {}): EventOf<T> {
  return createEvent(type.startsWith('visits') || type.startsWith('schedule') || type.startsWith('request') ? 'scheduling' : type.startsWith('login') || type.startsWith('password') ? 'identity' : 'directory', {
    type, subject, tenantId, correlationId: more.correlationId ?? randomUUID(), subjectVersion: more.subjectVersion, data,
  });
}

export interface PersonSpec {
  id?: string;
  kind?: 'client' | 'staff';
  firstName?: string;
  lastName?: string;
  email?: string | null;
  phone?: string | null;
  accountId?: string;
  roleKey?: string | null;
  dailyReminder?: boolean;
  version?: number;
}

export function userCreated(tenantId: string, p: PersonSpec = {}): EventOf<'user.created'> {
  const id = p.id ?? randomUUID();
  return event('user.created', tenantId, id, {
    personId: id, kind: p.kind ?? 'staff', firstName: p.firstName ?? 'Sam', lastName: p.lastName ?? 'Sitter',
    email: p.email === undefined ? `${id.slice(0, 8)}@example.com` : p.email, phone: p.phone ?? null,
    accountId: p.accountId ?? randomUUID(), roleKey: p.roleKey === undefined ? (p.kind === 'client' ? null : 'staff') : p.roleKey,
    ...(p.dailyReminder !== undefined ? { dailyReminder: p.dailyReminder } : {}),
    actor: SYSTEM,
  }, { subjectVersion: p.version ?? 1 });
}

export function lifecycle(type: 'user.deactivated' | 'user.reactivated' | 'user.archived', tenantId: string, personId: string, version: number, roleKeys = ['staff']): EventOf<typeof type> {
  return event(type, tenantId, personId, { personId, kind: 'staff', roleKeys, reason: null, actor: SYSTEM }, { subjectVersion: version }) as EventOf<typeof type>;
}

/**
 * For a describe block: a real SMTP server and notifications sending to it, started before its
 * tests and stopped after them. Read `.system` and `.smtp` inside the tests.
 */
export function notificationsWithSmtp(env: Record<string, string> = {}): { readonly system: NotificationsSystem; readonly smtp: TestSmtpServer } {
  const running = {} as { system: NotificationsSystem; smtp: TestSmtpServer };
  beforeAll(async () => {
    running.smtp = await startSmtpServer();
    running.system = await startNotifications({ SMTP_URL: running.smtp.url, ...env });
  });
  afterAll(async () => {
    await running.system?.stop();
    await running.smtp?.close();
  });
  return running;
}
