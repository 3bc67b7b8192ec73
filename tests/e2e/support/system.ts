import { randomUUID } from 'node:crypto';
import { freePort } from '../../../packages/platform/test/support/ports.js';
import { SERVICES, type ServiceName } from '@roster/contracts';
import type { Bus } from '@roster/platform/bus/types';
import { startService, type RunningService, type StartOptions } from '@roster/platform/service';
import { migratePostgres, type SqlClient } from '@roster/platform/db/database';
import { deleteKafkaNamespaces, deleteRabbitNamespaces } from '../../../packages/platform/test/support/brokers.js';
import { createTestDatabase, type TestDatabase } from '../../../packages/platform/test/support/postgres.js';
import { testTokens, type TestTokens } from '../../../packages/platform/test/support/tokens.js';
import { directoryService } from '../../../services/directory/src/service.js';
import { identityService } from '../../../services/identity/src/service.js';
import { notificationsService } from '../../../services/notifications/src/service.js';
import { schedulingService } from '../../../services/scheduling/src/service.js';

export const OPERATOR_KEY = 'test-operator-key-0123456789';

const definitions = {
  identity: identityService,
  directory: directoryService,
  scheduling: schedulingService,
  notifications: notificationsService,
} as const;

export interface SystemOptions {
  /** `memory:` with a shared bus, `amqp://…` or `kafka://…` with one connection per service. */
  busUrl: string;
  sharedBus?: Bus;
  /** `postgres` gives each service its own fresh database; `pglite` an in-memory one (embedded mode). */
  database: 'postgres' | 'pglite';
  /** More environment for every service (SMTP_URL, SMS_PROVIDER_URL …). */
  env?: Record<string, string>;
  /**
   * Services not started in this process: their database is still made (and migrated), and
   * `system.envOf(name)` is the environment to run them with elsewhere (a child process the test
   * can kill). `services[name]` is absent for them.
   */
  external?: ServiceName[];
}

export interface System {
  services: Record<ServiceName, RunningService<SqlClient>>;
  url(service: ServiceName): string;
  /** Headers of the operator acting on `tenantId`. */
  operator(tenantId: string): Record<string, string>;
  /** The system's keys: mint tokens identity would sign (`tokens.bearer({tenantId, roles})`). */
  tokens: TestTokens;
  /** The bus namespace every service of this system uses. */
  namespace: string;
  /** The environment `service` runs with (PORT=0, its DATABASE_URL, the bus, the keys). */
  envOf(service: ServiceName): Record<string, string>;
  stop(): Promise<void>;
}

/** All four services in this process, each with its own database, wired to one bus (rule 1 holds: they share nothing else). */
export async function startSystem(options: SystemOptions): Promise<System> {
  const namespace = `e2e-${randomUUID().slice(0, 8)}`;
  const tokens = testTokens();
  const databases: TestDatabase[] = [];
  const services = {} as Record<ServiceName, RunningService<SqlClient>>;
  const envs = {} as Record<ServiceName, Record<string, string>>;
  // Identity is an OpenID Provider: its issuer (PUBLIC_URL) must be where it listens, so its port is chosen first.
  const identityPort = await freePort();
  const startOne = async (name: ServiceName) => {
    let databaseUrl = 'pglite:memory';
    if (options.database === 'postgres') {
      const db = await createTestDatabase(`roster_e2e_${name}`);
      databases.push(db);
      databaseUrl = db.url;
    }
    const start: StartOptions = {
      env: {
        PORT: '0', DATABASE_URL: databaseUrl, BUS_URL: options.busUrl, BUS_NAMESPACE: namespace,
        ROSTER_OPERATOR_KEY: OPERATOR_KEY, DB_MIGRATE: 'true', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        ...tokens.env,
        // The test applications receiving back-channel logouts listen on 127.0.0.1.
        PUBLIC_URL: `http://127.0.0.1:${identityPort}`, OIDC_BACKCHANNEL_PRIVATE: 'true',
        ...options.env,
        ...(name === 'identity' ? { PORT: String(identityPort) } : {}),
      },
      ...(options.sharedBus ? { bus: options.sharedBus } : {}),
    };
    envs[name] = start.env as Record<string, string>;
    if (options.external?.includes(name)) {
      if (options.database === 'postgres') await migratePostgres(databaseUrl, definitions[name].migrationFolders);
      return;
    }
    services[name] = (await startService(definitions[name] as never, start)) as RunningService<SqlClient>;
  };
  const started = await Promise.allSettled(SERVICES.map(startOne));
  const failure = started.find((r) => r.status === 'rejected');
  if (failure) {
    await Promise.allSettled(Object.values(services).map((s) => s.stop()));
    await Promise.allSettled(databases.map((d) => d.drop()));
    throw failure.reason;
  }
  return {
    services,
    url: (service) => services[service].url,
    operator: (tenantId) => ({ 'x-operator-key': OPERATOR_KEY, 'x-roster-tenant': tenantId }),
    tokens,
    namespace,
    envOf: (service) => ({ ...envs[service] }),
    stop: async () => {
      await Promise.allSettled(Object.values(services).map((s) => s.stop()));
      await Promise.allSettled(databases.map((d) => d.drop()));
      if (options.busUrl.startsWith('amqp')) await deleteRabbitNamespaces(options.busUrl, [namespace]);
      if (options.busUrl.startsWith('kafka')) await deleteKafkaNamespaces(options.busUrl.slice('kafka://'.length).split(','), [namespace]);
    },
  };
}

