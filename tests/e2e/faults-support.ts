import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { EventEnvelope, ServiceName } from '@roster/contracts';
import type { Bus, RawMessage } from '@roster/platform/bus/types';
import { freePort } from '../../packages/platform/test/support/ports.js';
import { waitFor } from '../../packages/platform/test/support/wait.js';

const root = new URL('../../', import.meta.url);
export const NODE_TS = ['--conditions=roster-source', '--import', 'tsx'];

/** One service in a process of its own (`services/<name>/src/main.ts`), so that a test can SIGKILL it mid-cascade. */
export class ChildService {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  output = '';
  url = '';

  constructor(readonly service: ServiceName, private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    // A port given in the environment is kept (identity's: its issuer URL names it), across restarts too.
    const port = this.env.PORT && this.env.PORT !== '0' ? Number(this.env.PORT) : await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const main = fileURLToPath(new URL(`services/${this.service}/src/main.ts`, root));
    const child = spawn(process.execPath, [...NODE_TS, main], {
      env: { ...process.env, ...this.env, PORT: String(port), DB_MIGRATE: 'false' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (this.output = (this.output + d).slice(-20_000)));
    child.stderr!.on('data', (d) => (this.output = (this.output + d).slice(-20_000)));
    this.child = child;
    this.exited = once(child, 'exit');
    await waitFor(`${this.service} (pid ${child.pid}) to be ready`, async () => {
      if (child.exitCode !== null) throw new Error(`${this.service} exited: ${this.output}`);
      return (await fetch(`${this.url}/readyz`)).status === 200;
    }, 60_000, 200);
  }

  /** SIGKILL: no graceful stop, unacknowledged deliveries and uncommitted transactions are lost by the process. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 20_000))]);
    this.child.kill('SIGKILL');
  }
}

/**
 * A second relay that publishes every event a service's outbox has already published once more,
 * so that every event reaches every consumer at least twice (rule 2: consumers must absorb it).
 */
export class Duplicator {
  republished = 0;
  private readonly pools: pg.Pool[];
  private readonly done: Array<Set<string>>;
  /** Highest position republished per database; rows are looked up from a little before it (a late commit). */
  private readonly cursor: number[];
  private running = false;
  private loop: Promise<void> | undefined;
  failures = 0;

  constructor(private readonly bus: Bus, databaseUrls: string[]) {
    this.pools = databaseUrls.map((url) => new pg.Pool({ connectionString: url, max: 2 }));
    this.done = databaseUrls.map(() => new Set());
    this.cursor = databaseUrls.map(() => 0);
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          if ((await this.pass()) === 0) await new Promise((r) => setTimeout(r, 100));
        } catch {
          this.failures++; // the broker is restarting: try again
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
  }

  /** Republishes what was published since the last pass; returns how many. */
  async pass(): Promise<number> {
    let n = 0;
    for (const [i, pool] of this.pools.entries()) {
      const rows = (await pool.query<{ position: string; envelope: EventEnvelope }>(
        'SELECT position::text, envelope FROM outbox WHERE published_at IS NOT NULL AND position > $1 ORDER BY position',
        [Math.max(0, this.cursor[i]! - 1_000)],
      )).rows.filter((r) => !this.done[i]!.has(r.position));
      for (let k = 0; k < rows.length; k += 200) {
        const batch = rows.slice(k, k + 200);
        await this.bus.publish(batch.map((r) => r.envelope));
        for (const r of batch) {
          this.done[i]!.add(r.position);
          this.cursor[i] = Math.max(this.cursor[i]!, Number(r.position));
        }
        this.republished += batch.length;
        n += batch.length;
      }
    }
    return n;
  }

  /** Waits until every outbox row is published by its service and once more by this duplicator. */
  async caughtUp(timeoutMs: number): Promise<void> {
    await waitFor('every outbox row published and duplicated', async () => {
      for (const [i, pool] of this.pools.entries()) {
        const { rows } = await pool.query<{ position: string; published: boolean }>('SELECT position::text, published_at IS NOT NULL AS published FROM outbox');
        if (rows.some((r) => !r.published || !this.done[i]!.has(r.position))) return false;
      }
      return true;
    }, timeoutMs, 200);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all(this.pools.map((p) => p.end()));
  }
}

/** A message no consumer can read (the body is cut short), addressed like a `user.deactivated`. */
export function poisonMessage(transport: 'rabbitmq' | 'kafka', subject: string): { id: string; message: RawMessage } {
  const id = `poison-${randomUUID()}`;
  const p = transport === 'rabbitmq' ? 'cloudEvents:' : 'ce_';
  return {
    id,
    message: {
      headers: {
        'content-type': 'application/json', [`${p}specversion`]: '1.0', [`${p}id`]: id, [`${p}type`]: 'user.deactivated',
        [`${p}source`]: 'faults-test', [`${p}subject`]: subject, [`${p}time`]: new Date().toISOString(),
      },
      body: '{"personId": "',
    },
  };
}

/** Runs one SQL query on the database at `url` (a short-lived connection). */
export async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A tenant with its root account, provisioned through the directory (or any ids where it cannot provision yet). */
export async function provisionTenant(directoryUrl: string, operator: (tenantId: string) => Record<string, string>, name: string): Promise<{ tenantId: string; accountId: string }> {
  const tenantId = randomUUID();
  const res = await fetch(`${directoryUrl}/tenants`, {
    method: 'POST', headers: { ...operator(tenantId), 'content-type': 'application/json' },
    body: JSON.stringify({ id: tenantId, name, owner: { firstName: 'Olga', lastName: 'Owner', email: `owner-${tenantId.slice(0, 8)}@example.com` } }),
  });
  if (res.status !== 201) return { tenantId, accountId: randomUUID() };
  const body = await res.json() as { tenantId: string; rootAccountId: string };
  return { tenantId: body.tenantId, accountId: body.rootAccountId };
}

/**
 * Upcoming visits of `clientId` with `sitterId`, through scheduling's API. Scheduling assigns only
 * people it knows (from events), so a refusal is retried until it has learnt of them.
 */
export async function addUpcomingVisits(schedulingUrl: string, auth: Record<string, string>, clientId: string, sitterId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const startsAt = new Date(Date.now() + i * 86_400_000);
    const body = JSON.stringify({ clientId, sitterId, startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString() });
    const visit = await waitFor(`scheduling to accept a visit for ${sitterId}`, async () => {
      const res = await fetch(`${schedulingUrl}/visits`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
      if (res.status === 201) return (await res.json()) as { id: string };
      if (res.status === 401 || res.status === 403) throw new Error(`scheduling refused the token: ${await res.text()}`);
      return null;
    }, 60_000, 100);
    ids.push(visit.id);
  }
  return ids;
}

/** Every visit scheduling lists for `query` (all pages). */
export async function listVisits(schedulingUrl: string, auth: Record<string, string>, query: Record<string, string>): Promise<{ id: string; sitterId: string | null }[]> {
  const out: { id: string; sitterId: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${schedulingUrl}/visits?${params}`, { headers: auth });
    if (res.status !== 200) throw new Error(`GET /visits: ${res.status} ${await res.text()}`);
    const page = await res.json() as { items: { id: string; sitterId: string | null }[]; nextCursor: string | null };
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
