// Scheduling on a fresh Postgres database and a memory bus, fed by real directory events, driven
// over HTTP with tokens signed the way identity signs them.
import { randomUUID } from 'node:crypto';
import { createEvent, type EventEnvelope, type RosterEvent } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { startService, type RunningService } from '@roster/platform/service';
import pg from 'pg';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../../../../packages/platform/test/support/postgres.js';
import { testTokens, type TestTokens } from '../../../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../../../packages/platform/test/support/wait.js';
import type { SchedulingDb } from '../../src/db/client.js';
import { schedulingService } from '../../src/service.js';

const SYSTEM = { kind: 'system', personId: null, impersonatorId: null } as const;

export interface Caller {
  tenantId: string;
  personId?: string;
  roles: string[];
  permissions?: string[];
}

// Replies are untyped JSON read by assertions; typing each endpoint's body here would only restate the DTOs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Reply<T = any> {
  status: number;
  type: string | null;
  body: T;
}

export class SchedulingHarness {
  readonly bus = new MemoryBus();
  readonly tokens: TestTokens = testTokens();
  /** Everything scheduling published, in order. */
  readonly published: RosterEvent[] = [];
  private database!: TestDatabase;
  service!: RunningService<SchedulingDb>;
  private versions = new Map<string, number>();

  async start(prefix: string): Promise<this> {
    this.database = await createTestDatabase(prefix);
    await this.bus.subscribe({
      group: 'watcher',
      types: ['cascade.step.completed', 'visits.unassigned', 'visits.deleted', 'schedule.digest', 'request.submitted', 'request.approved', 'request.declined'],
      handler: async (e) => void this.published.push(e),
    });
    this.service = await startService(schedulingService, {
      bus: this.bus,
      env: { PORT: '0', DATABASE_URL: this.database.url, DB_MIGRATE: 'true', LOG_LEVEL: process.env.SCHEDULING_TEST_LOG ?? 'silent', ...this.tokens.env },
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    // pg.Pool#end() resolves before its sockets are closed; DROP … WITH (FORCE) terminating such a
    // closing client makes the pool emit an unhandled 'error'. Wait for the sessions to go first.
    if (this.database) await waitForNoSessions(this.database.name);
    await this.database?.drop();
  }

  get db(): SchedulingDb {
    return this.service.ctx.prisma;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async http<T = any>(method: string, path: string, who: Caller | null, body?: unknown): Promise<Reply<T>> {
    const headers: Record<string, string> = who ? this.tokens.bearer(who as never) : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.service.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : null };
  }

  /** Publishes events as directory would and waits until scheduling handled every one (inbox). */
  async feed(...events: EventEnvelope[]): Promise<void> {
    await this.bus.publish(events);
    const ids = events.map((e) => e.id);
    await waitFor(`scheduling to handle ${events.map((e) => e.type).join(', ')}`, async () => {
      const [row] = await this.db.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM inbox WHERE event_id = ANY($1)', ids);
      return row!.n === ids.length;
    });
    await this.settled();
  }

  /** Waits for the outbox to be relayed (what the service published is in `published`). */
  async settled(): Promise<void> {
    await waitFor('the outbox to drain', async () => {
      const [row] = await this.db.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
      return row!.n === 0;
    });
    await new Promise((r) => setTimeout(r, 30));
  }

  nextVersion(personId: string): number {
    const v = (this.versions.get(personId) ?? 0) + 1;
    this.versions.set(personId, v);
    return v;
  }

  personCreated(tenantId: string, kind: 'client' | 'staff', o: { id?: string; roleKey?: string | null; accountId?: string; firstName?: string; lastName?: string } = {}) {
    const personId = o.id ?? randomUUID();
    return createEvent('directory', {
      type: 'user.created', subject: personId, tenantId, correlationId: randomUUID(), subjectVersion: this.nextVersion(personId),
      data: {
        personId, kind, firstName: o.firstName ?? (kind === 'client' ? 'Cleo' : 'Sam'), lastName: o.lastName ?? 'Tester', email: null, phone: null,
        accountId: o.accountId ?? randomUUID(), roleKey: o.roleKey === undefined ? (kind === 'staff' ? 'staff' : null) : o.roleKey, actor: SYSTEM,
      },
    });
  }

  lifecycle(
    type: 'user.deactivated' | 'user.reactivated' | 'user.archived' | 'user.restored',
    tenantId: string, personId: string, kind: 'client' | 'staff', version = this.nextVersion(personId), correlationId = randomUUID(),
  ) {
    return createEvent('directory', {
      type, subject: personId, tenantId, correlationId, subjectVersion: version,
      data: { personId, kind, roleKeys: kind === 'staff' ? ['staff'] : ['client'], reason: null, actor: SYSTEM },
    });
  }

  /** client.assigned as the directory publishes it: `staffId` sees the client (a salesperson), or null. */
  clientAssigned(tenantId: string, clientId: string, staffId: string | null) {
    return createEvent('directory', {
      type: 'client.assigned', subject: clientId, tenantId, correlationId: randomUUID(),
      data: { clientId, staffId, actor: SYSTEM },
    });
  }

  preview(tenantId: string, personId: string, kind: 'client' | 'staff', correlationId = randomUUID()) {
    return createEvent('directory', {
      type: 'cascade.preview_requested', subject: personId, tenantId, correlationId,
      data: { action: 'deactivate', personId, kind, roleKeys: kind === 'staff' ? ['staff'] : ['client'] },
    });
  }

  /** A client and a sitter, both active, in `tenantId`. */
  async clientAndSitter(tenantId: string): Promise<{ clientId: string; sitterId: string }> {
    const client = this.personCreated(tenantId, 'client');
    const sitter = this.personCreated(tenantId, 'staff');
    await this.feed(client, sitter);
    return { clientId: client.data.personId, sitterId: sitter.data.personId };
  }

  stepsOf(correlationId: string) {
    return this.published.filter((e) => e.type === 'cascade.step.completed' && e.correlationid === correlationId)
      .map((e) => (e as Extract<RosterEvent, { type: 'cascade.step.completed' }>).data);
  }
}

export async function waitForNoSessions(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    await waitFor(`the sessions of ${name} to end`, async () => {
      const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      return rows[0]!.n === 0;
    }, 5_000, 25).catch(() => undefined); // then drop anyway
  } finally {
    await admin.end();
  }
}

export const manager = (tenantId: string): Caller => ({ tenantId, roles: ['manager'] });
export const hoursFromNow = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
