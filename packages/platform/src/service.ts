import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { ServiceName } from '@roster/contracts';
import { createServiceAuth, revocationSubscription, type ServiceAuth } from './auth/index.js';
import { createBus, MemoryBus } from './bus/index.js';
import type { Bus, Subscription } from './bus/types.js';
import { BatchingConsumer, subscriptionOf, type Consumers } from './consumers.js';
import type { TransactionRunner } from './db/sql.js';
import type { MigrationFolders } from './db/migrate.js';
import { loadConfig, type ServiceConfig } from './config.js';
import { configureCursorKey } from './paging.js';
import { openDatabase, type Database, type MakeClient, type SqlClient, type SqlTx } from './db/database.js';
import { createHttpApp } from './http/app.js';
import { createLogger, redactUrl, type Logger } from './logging.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { OutboxRelay } from './outbox.js';
import { beforeDeadline } from './deadline.js';
import { stopOnSignals } from './shutdown.js';
import { runAsService, startTelemetry } from './telemetry.js';

export interface ServiceContext<C extends SqlClient> {
  name: ServiceName;
  config: ServiceConfig;
  db: Database<C>;
  prisma: C;
  bus: Bus;
  logger: Logger;
  metrics: ServiceMetrics;
  relay: OutboxRelay;
  /** Bearer-token verification with the revocation list fed by events (rule 7, B2). */
  auth: ServiceAuth;
}

export interface ServiceDefinition<C extends SqlClient, Tx extends SqlTx = SqlTx> {
  name: ServiceName;
  defaultPort: number;
  /** The platform's migration folders it uses (PLATFORM_MIGRATIONS), then its own `prisma/migrations`. */
  migrationFolders: MigrationFolders;
  /** The service's generated PrismaClient on a driver adapter. */
  makeClient: MakeClient<C>;
  routes(ctx: ServiceContext<C>): Router;
  /**
   * Routes that are not the JSON API (hosted HTML pages, OAuth's form-encoded endpoints), mounted
   * before the JSON kit's body parsing: they parse, validate and answer errors themselves.
   */
  pages?(ctx: ServiceContext<C>): Router;
  /**
   * What the service consumes: the effect of each event type, run by the platform's one consumer
   * model (consumers.ts) in batches; the consumer group is the service's name. Null: nothing.
   */
  consumers(ctx: ServiceContext<C>): Consumers<Tx> | null;
  /**
   * The service's own background work (senders, periodic jobs), started once its consumers and
   * relay run; stopped after the consumers close and before the relay flushes, so whatever it
   * commits is still published and the database is still open.
   */
  background?(ctx: ServiceContext<C>): { stop(): Promise<void> };
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** A bus shared by several services in one process (the embedded default's in-memory bus). */
  bus?: Bus;
  logger?: Logger;
}

export interface RunningService<C extends SqlClient> {
  name: ServiceName;
  url: string;
  ctx: ServiceContext<C>;
  /** Graceful stop: no new requests or events, in-flight work finished, outbox flushed. */
  stop(): Promise<void>;
}

/**
 * Starts one service: tracing, database (migrated when configured), bus, outbox relay, consumers,
 * HTTP. Everything it starts runs as that service's work (spans carry `roster.service`), which
 * matters when several services share a process.
 */
export function startService<C extends SqlClient, Tx extends SqlTx>(def: ServiceDefinition<C, Tx>, options: StartOptions = {}): Promise<RunningService<C>> {
  return runAsService(def.name, () => start(def, options));
}

async function start<C extends SqlClient, Tx extends SqlTx>(def: ServiceDefinition<C, Tx>, options: StartOptions): Promise<RunningService<C>> {
  // Before the express app exists: the http/express instrumentations patch what it will use.
  const telemetry = startTelemetry({ service: def.name });
  const config = loadConfig(def.name, options.env ?? process.env, def.defaultPort);
  configureCursorKey(config.cursorSecret);
  const logger = options.logger ?? createLogger(def.name, config.logLevel ? { level: config.logLevel } : {});
  const metrics = createMetrics(def.name);
  const db = await openDatabase(
    { url: config.databaseUrl, migrationFolders: def.migrationFolders, migrate: config.migrateOnStart, poolSize: config.dbPoolSize, acquireTimeoutMs: config.dbAcquireTimeoutMs, preparedStatements: config.dbPreparedStatements },
    def.makeClient,
  );
  if (db.migrations?.applied.length) logger.info({ applied: db.migrations.applied }, 'migrations applied');
  const ownsBus = !options.bus;
  const bus = options.bus ?? (await createBus(config.busUrl, { namespace: config.busNamespace, observer: metrics.busObserver, logger, instanceId: `${def.name}-${randomUUID().slice(0, 8)}` }));
  if (ownsBus) await bus.connect();
  else if (bus instanceof MemoryBus) bus.observe(def.name, metrics.busObserver);
  const relay = new OutboxRelay({ db: db.client, transactions: db.sql, bus, logger, lingerMs: config.batchLingerMs, onLag: (n, age) => metrics.setOutboxLag(n, age) });
  const auth = await createServiceAuth(config, db.client, logger);
  const ctx: ServiceContext<C> = { name: def.name, config, db, prisma: db.client, bus, logger, metrics, relay, auth };

  const subscriptions: Subscription[] = [];
  // Every replica learns every revocation at once, whatever the service consumes otherwise.
  subscriptions.push(await bus.subscribe({ ...revocationSubscription({ db: db.client, notBefore: auth.notBefore, logger, lingerMs: config.batchLingerMs, onRevoked: (reason) => metrics.revocations(reason) }), group: revocationGroup(def.name) }));
  const consumers = def.consumers(ctx);
  // The service's client runs its interactive transactions on the `Tx` its definition names; effects
  // that only run SQL get the driver's own transactions.
  const runner = ctx.prisma as unknown as TransactionRunner<Tx>;
  const own = consumers ? [subscriptionOf(new BatchingConsumer(consumers, { db: runner, sql: db.sql, relay, logger, lingerMs: config.batchLingerMs }))] : [];
  metrics.watchDeadLetterDepth(deadLetterGroups(def.name, own), (group) => bus.deadLetterDepth(group));
  // One subscription per group: on Kafka, members of one group subscribed to different topics
  // would be assigned partitions they never read.
  for (const s of own) subscriptions.push(await bus.subscribe({ ...s, group: def.name }));
  relay.start();
  const background = def.background?.(ctx);

  const app = createHttpApp({
    service: def.name,
    logger,
    metrics,
    routes: def.routes(ctx),
    ...(def.pages ? { pages: def.pages(ctx) } : {}),
    trustProxy: config.trustProxy,
    readiness: [
      { name: 'database', check: () => db.ping() },
      { name: 'bus', check: () => bus.isHealthy() },
    ],
  });
  let server: Server;
  try {
    // Express 5 hands a listen failure (EADDRINUSE …) to this callback rather than emitting it.
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, (error?: Error) => (error ? reject(error) : resolve(s)));
    });
  } catch (error) {
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    await background?.stop();
    await relay.stop(1_000);
    if (ownsBus) await bus.close();
    await db.close();
    await telemetry.shutdown();
    throw new Error(`cannot listen on port ${config.port}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, database: redactUrl(config.databaseUrl), bus: redactUrl(config.busUrl) }, `${def.name} listening`);

  let stopping: Promise<void> | undefined;
  // One budget for the whole stop (SHUTDOWN_TIMEOUT_MS): each stage gets what the earlier ones
  // left, and a stage that does not settle in time is left behind (its work is redone after a
  // restart: unacknowledged events come again, unsent messages stay queued), never waited for.
  const stop = () =>
    (stopping ??= (async () => {
      // Half a second less than the process's own deadline (stopOnSignals), so that a slow stage
      // is reported and the rest still closes before the process exits regardless.
      const deadline = Date.now() + Math.max(100, config.shutdownTimeoutMs - 500);
      const stage = async (name: string, work: () => Promise<unknown> | undefined) => {
        try {
          await beforeDeadline(deadline, Promise.resolve().then(work), `${name} did not finish within SHUTDOWN_TIMEOUT_MS`);
        } catch (error) {
          logger.warn({ err: error }, `${def.name} stop: ${name} left behind`);
        }
      };
      logger.info({}, `${def.name} stopping`);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await stage('closing the subscriptions', () => Promise.all(subscriptions.map((s) => s.close())));
      await stage('stopping background work', () => background?.stop());
      await stage('flushing the outbox', () => relay.stop(Math.max(0, deadline - Date.now())));
      await stage('finishing open requests', () => closed);
      server.closeAllConnections();
      if (ownsBus) await stage('closing the bus', () => bus.close());
      await stage('closing the database', () => db.close());
      await stage('flushing telemetry', () => telemetry.shutdown());
      logger.info({}, `${def.name} stopped`);
    })());
  return { name: def.name, url, ctx, stop };
}

/** The broadcast group of a service's revocation feed (every replica gets every revocation). */
const revocationGroup = (service: string): string => `${service}-revocations`;

/**
 * The groups whose dead-letter depth a service's `/metrics` reports: its own group when it
 * subscribes to anything, and its revocation feed's. Broadcast subscriptions dead-letter too,
 * under their group's name (a malformed event at once; a handler that keeps failing, e.g. the
 * feed's database write, after its retries).
 */
export function deadLetterGroups(service: string, subscriptions: readonly unknown[]): string[] {
  return [...(subscriptions.length > 0 ? [service] : []), revocationGroup(service)];
}

/** `node services/<name>/dist/main.js`: one service, stopped gracefully on SIGTERM/SIGINT. */
export async function runStandalone<C extends SqlClient, Tx extends SqlTx>(def: ServiceDefinition<C, Tx>): Promise<void> {
  let running: RunningService<C>;
  try {
    running = await startService(def);
  } catch (error) {
    console.error(`${def.name} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  stopOnSignals({ stop: running.stop, timeoutMs: running.ctx.config.shutdownTimeoutMs });
}

/** `node services/<name>/dist/migrate.js`: applies the service's committed migrations to DATABASE_URL and exits. */
export async function runMigrations<C extends SqlClient, Tx extends SqlTx>(def: ServiceDefinition<C, Tx>): Promise<void> {
  const config = loadConfig(def.name, process.env, def.defaultPort);
  try {
    const db = await openDatabase({ url: config.databaseUrl, migrationFolders: def.migrationFolders, migrate: true }, def.makeClient);
    const report = db.migrations;
    await db.close();
    console.log(`${def.name}: ${report?.applied.length ?? 0} migration(s) applied${report?.applied.length ? ` (${report.applied.join(', ')})` : ''}, ${report?.alreadyApplied ?? 0} already there`);
  } catch (error) {
    console.error(`${def.name}: migration failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
