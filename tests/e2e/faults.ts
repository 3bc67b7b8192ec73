import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { SERVICES, type ServiceName } from '@roster/contracts';
import { createBus } from '@roster/platform/bus/index';
import type { Bus } from '@roster/platform/bus/types';
import { waitFor } from '../../packages/platform/test/support/wait.js';
import { restartBroker } from './support/brokers-control.js';
import { startSystem, type System } from './support/system.js';
import { addUpcomingVisits, ChildService, Duplicator, listVisits, NODE_TS, poisonMessage, provisionTenant, query } from './faults-support.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../scripts/roster.mjs', import.meta.url));
const writeThenDie = fileURLToPath(new URL('./faults-write-then-die.ts', import.meta.url));
const CONSUMERS = ['identity', 'scheduling', 'notifications'] as const;
/** Steps of one sitter's deactivation: the three consumers' for it, notifications' for its visits.unassigned (issue 16 item 3). */
const STEPS = 4;

export interface FaultRunOptions {
  busUrl: string;
  transport: 'rabbitmq' | 'kafka';
  /** Cascades driven through directory's HTTP API (the writer that dies adds `diedWriting` more). */
  cascades?: number;
  diedWriting?: number;
  concurrency?: number;
}

/** Prometheus sample sum of `name` over the series whose labels include `labels`. */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/**
 * Rule 2 under faults, on a real broker and Postgres: ≥ 1,000 deactivation cascades (P5, B4)
 * while the broker restarts, scheduling is SIGKILLed mid-cascade and restarted, a directory
 * process commits deactivations and dies before its relay publishes them, every event is
 * published twice, and a poison message arrives. Then every operation completed, every effect
 * landed exactly once in each service's database, and the poison waits in the dead letters.
 */
export function faultRun(name: string, o: FaultRunOptions): void {
  const cascades = o.cascades ?? Number(process.env.FAULTS_CASCADES ?? 1000);
  const diedWriting = o.diedWriting ?? 40;
  describe(`fault run on ${name}`, () => {
    let system: System;
    let scheduling: ChildService;
    let duplicator: Duplicator;
    let busForFaults: Bus;
    let tenantId: string;
    let accountId: string;
    let clientId: string;
    let auth: Record<string, string> = {};
    let schedulingAuth: Record<string, string>;
    const dbUrl = (s: ServiceName) => system.envOf(s).DATABASE_URL!;

    beforeAll(async () => {
      system = await startSystem({ busUrl: o.busUrl, database: 'postgres', external: ['scheduling'] });
      scheduling = new ChildService('scheduling', system.envOf('scheduling'));
      await scheduling.start();
      busForFaults = await createBus(o.busUrl, { namespace: system.namespace });
      await busForFaults.connect();
      duplicator = new Duplicator(busForFaults, SERVICES.map(dbUrl));
      ({ tenantId, accountId } = await provisionTenant(system.url('directory'), system.operator, 'Faulty Pets'));
      auth = system.operator(tenantId);
      // Once the directory takes bearer tokens only, an owner's token drives it.
      const probe = await fetch(`${system.url('directory')}/operations/${randomUUID()}`, { headers: auth });
      if (probe.status === 401 || probe.status === 403) auth = system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never);
      schedulingAuth = system.tokens.bearer({ tenantId, personId: randomUUID(), roles: ['owner'] } as never);
      const client = await post('/people', { kind: 'client', firstName: 'Cleo', lastName: 'Client', accountId });
      assert.equal(client.status, 201, JSON.stringify(client.body));
      clientId = client.body.id!;
    });
    afterAll(async () => {
      await duplicator?.stop().catch(() => undefined);
      await busForFaults?.close();
      await scheduling?.stop();
      await system?.stop();
    });

    const post = async (path: string, body: unknown) => {
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${system.url('directory')}${path}`, {
          method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body),
        });
        const json = await res.json() as Record<string, string>;
        // A 5xx here is the database refusing a transaction in time on a loaded machine: nothing was committed.
        if (res.status < 500 || attempt >= 6) return { status: res.status, body: json };
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    };

    // A sitter with two upcoming visits (to unassign), made through the directory's and scheduling's APIs.
    const sitterWithVisits = async () => {
      const created = await post('/people', { kind: 'staff', firstName: 'Fay', lastName: 'Fault', accountId, roleKey: 'staff' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id!;
      await addUpcomingVisits(scheduling.url, schedulingAuth, clientId, id, 2);
      return id;
    };

    it(`completes ${cascades + diedWriting} deactivation cascades exactly once through a broker restart, a consumer killed inside a batch transaction, a relay dying before publishing, duplicates and a poison message`, async () => {
      const started = Date.now();
      duplicator.start();
      const faults: Array<Promise<string>> = [];
      const log: string[] = [];
      const note = (what: string) => {
        log.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
        if (process.env.FAULTS_VERBOSE) process.stderr.write(`${log.at(-1)}\n`);
      };

      // The sitters and their visits exist (and are known everywhere) before the faults begin.
      const sitters: string[] = [];
      let made = 0;
      await Promise.all(Array.from({ length: o.concurrency ?? 8 }, async () => {
        while (made++ < cascades + diedWriting) sitters.push(await sitterWithVisits());
      }));
      const forTheDyingWriter = sitters.slice(cascades);
      note(`${sitters.length} sitters with two upcoming visits each`);

      const operations: string[] = [];
      let next = 0;
      let done = 0;
      const at = (fraction: number) => Math.floor(cascades * fraction);
      const trigger = (n: number) => {
        if (n === at(0.1)) {
          faults.push((async () => {
            const poison = poisonMessage(o.transport, randomUUID());
            await busForFaults.publishRaw('user.deactivated', poison.message.headers[o.transport === 'rabbitmq' ? 'cloudEvents:subject' : 'ce_subject']!, poison.message);
            note(`poison ${poison.id} published`);
            return poison.id;
          })());
        }
        if (n === at(0.25)) {
          faults.push((async () => {
            // Issue 19: killed in the middle of a batch — while one of its consumer transactions is
            // open (not the relay's: advisory lock, outbox reads and marks), seen from Postgres.
            const watcher = new pg.Client({ connectionString: dbUrl('scheduling') });
            await watcher.connect();
            let inBatch = false;
            try {
              const until = Date.now() + 20_000;
              while (!inBatch && Date.now() < until) {
                const { rows } = await watcher.query<{ n: number }>(
                  `SELECT count(*)::int AS n FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
                      AND state IN ('active', 'idle in transaction')
                      AND query NOT ILIKE '%advisory%' AND query NOT ILIKE '%FROM outbox%' AND query NOT ILIKE 'UPDATE outbox%'`);
                inBatch = (rows[0]?.n ?? 0) > 0;
              }
              await scheduling.kill();
            } finally {
              await watcher.end();
            }
            assert.ok(inBatch, 'scheduling had a consumer transaction open when it was killed');
            note('scheduling SIGKILLed inside a consumer batch transaction');
            await new Promise((r) => setTimeout(r, 1_500));
            await scheduling.start();
            note('scheduling restarted');
            return 'killed';
          })());
        }
        if (n === at(0.5)) {
          faults.push((async () => {
            note('broker restart begins');
            await restartBroker(o.busUrl, 1_000);
            note('broker back');
            return 'restarted';
          })());
        }
        if (n === at(0.7)) {
          faults.push((async () => {
            const child = await new Promise<{ signal: string | null; stdout: string; stderr: string }>((resolve) => {
              execFile(process.execPath, [...NODE_TS, writeThenDie], {
                env: { ...process.env, DATABASE_URL: dbUrl('directory'), TENANT_ID: tenantId, PEOPLE: forTheDyingWriter.join(','), LOG_LEVEL: 'silent' },
              }, (error, stdout, stderr) => resolve({ signal: (error as { signal?: string } | null)?.signal ?? null, stdout, stderr }));
            });
            assert.equal(child.signal, 'SIGKILL', `the writer died by SIGKILL (stderr: ${child.stderr})`);
            const ids = JSON.parse(child.stdout.trim()) as string[];
            assert.equal(ids.length, diedWriting);
            operations.push(...ids);
            note(`a directory process committed ${ids.length} deactivations and died before publishing`);
            return 'died';
          })());
        }
      };
      const worker = async () => {
        for (let n = next++; n < cascades; n = next++) {
          trigger(n);
          const res = await post(`/people/${sitters[n]}/deactivate`, { reason: 'left the company' });
          assert.equal(res.status, 202, JSON.stringify(res.body));
          operations.push(res.body.operationId!);
          if (++done % 250 === 0) note(`${done} cascades requested`);
        }
      };
      await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
      note(`${done} cascades requested over HTTP`);
      const [poisonId] = await Promise.all(faults);
      assert.equal(operations.length, cascades + diedWriting);

      // Every operation completes (B4), whatever happened on the way. Up to 7 minutes after the last
      // request: this asserts exactly-once completion, not speed (bench/system measures that). A busy
      // 2-core machine took 150 s on Kafka, and 170 s once each cascade also awaits notifications'
      // step for its visits.unassigned (issue 16 item 3: 1,040 more steps and managers' e-mails).
      // Progress read from the steps (cheap); completion then confirmed by GET /operations/{id} for each.
      const completed = async () => Number((await query<{ n: string }>(dbUrl('directory'),
        `SELECT count(*) AS n FROM (SELECT operation_id FROM operation_step WHERE operation_id = ANY($1::uuid[])
           GROUP BY operation_id HAVING count(DISTINCT (service, cause_type)) = ${STEPS}) done`, [operations]))[0]!.n);
      await waitFor('every operation to complete', async () => (await completed()) === operations.length, 420_000, 250)
        .catch(async (error) => {
          const steps = await query<{ service: string; n: string }>(dbUrl('directory'), 'SELECT service, count(*) AS n FROM operation_step WHERE operation_id = ANY($1::uuid[]) GROUP BY 1', [operations]);
          const handled = await Promise.all(CONSUMERS.map(async (c) => `${c} handled ${(await query<{ n: string }>(dbUrl(c), `SELECT count(*) AS n FROM inbox WHERE type = 'user.deactivated'`))[0]!.n}`));
          throw new Error(`${await completed()} of ${operations.length} completed; steps ${JSON.stringify(steps)}; ${handled.join(', ')}; ${log.join('; ')}; ${error}`);
        });
      let nextGet = 0;
      const notCompleted: string[] = [];
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let i = nextGet++; i < operations.length; i = nextGet++) {
          const res = await fetch(`${system.url('directory')}/operations/${operations[i]}`, { headers: auth });
          const op = await res.json() as { status: string; waitingFor: string[] };
          if (op.status !== 'completed' || op.waitingFor.length > 0) notCompleted.push(`${operations[i]}: ${op.status}`);
        }
      }));
      assert.deepEqual(notCompleted, [], 'GET /operations/{id} says completed for every operation');
      note('every operation completed');
      await duplicator.caughtUp(60_000);
      const metricsOf = async (s: 'directory') => (await fetch(`${system.url(s)}/metrics`)).text();
      // Every event reached its consumers at least twice: directory (which consumes the steps in
      // competing mode only) handled each step event twice or more, and inbox absorbed the copies.
      await waitFor('the duplicates to be delivered', async () =>
        sample(await metricsOf('directory'), 'roster_events_consumed_total', { group: 'directory', type: 'cascade.step.completed', outcome: 'handled' }) >= 2 * STEPS * operations.length,
      60_000, 250);
      note(`duplicates delivered (${duplicator.republished} events published a second time)`);

      // One step per consumer and event per operation: each operation's three services for the
      // deactivation, and notifications' for its visits.unassigned (issue 16 item 3).
      const [steps] = await query<{ total: string; distinct: string; unassigned: string }>(dbUrl('directory'),
        `SELECT count(*) AS total, count(DISTINCT (operation_id, service, cause_type)) AS distinct,
                count(*) FILTER (WHERE service = 'scheduling' AND (counts->>'visitsUnassigned')::int = 2) AS unassigned
           FROM operation_step WHERE operation_id = ANY($1::uuid[])`, [operations]);
      assert.equal(Number(steps!.total), STEPS * operations.length, 'four steps per operation');
      assert.equal(Number(steps!.distinct), STEPS * operations.length, 'one step per service and event per operation');
      assert.equal(Number(steps!.unassigned), operations.length, 'scheduling unassigned exactly the two upcoming visits of every sitter');

      // One inbox row per event per consumer: each consumer handled exactly the deactivations directory published.
      const published = (await query<{ id: string }>(dbUrl('directory'), `SELECT id FROM outbox WHERE type = 'user.deactivated'`)).map((r) => r.id).sort();
      assert.equal(published.length, operations.length);
      for (const consumer of CONSUMERS) {
        const inbox = (await query<{ event_id: string }>(dbUrl(consumer), `SELECT event_id FROM inbox WHERE type = 'user.deactivated' AND consumer = $1`, [consumer])).map((r) => r.event_id).sort();
        assert.deepEqual(inbox, published, `${consumer} handled each user.deactivated once`);
        const unpublished = await query<{ n: string }>(dbUrl(consumer), 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
        assert.equal(Number(unpublished[0]!.n), 0, `${consumer}'s outbox is empty`);
      }
      const stepEvents = (await Promise.all(CONSUMERS.map((c) => query<{ id: string }>(dbUrl(c), `SELECT id FROM outbox WHERE type = 'cascade.step.completed'`))))
        .flat().map((r) => r.id).sort();
      const directoryInbox = (await query<{ event_id: string }>(dbUrl('directory'), `SELECT event_id FROM inbox WHERE type = 'cascade.step.completed'`)).map((r) => r.event_id).sort();
      assert.equal(stepEvents.length, STEPS * operations.length, 'each consumer recorded one step per event of each cascade');
      assert.deepEqual(directoryInbox, stepEvents, 'directory folded each step event once');

      // The visits, as scheduling's API lists them: every one of them now needs a sitter.
      const visits = await listVisits(scheduling.url, schedulingAuth, { clientId });
      assert.equal(visits.length, 2 * sitters.length, 'no visit was lost or duplicated');
      assert.deepEqual(visits.filter((v) => v.sitterId !== null), [], 'every upcoming visit was unassigned');

      // What an SRE sees for one of them.
      const sampleOp = operations[operations.length - 1]!;
      const op = await (await fetch(`${system.url('directory')}/operations/${sampleOp}`, { headers: auth })).json() as { status: string; waitingFor: string[]; steps: { service: string }[] };
      assert.equal(op.status, 'completed');
      assert.deepEqual(op.waitingFor, []);
      assert.deepEqual(op.steps.map((s) => s.service).sort(), [...CONSUMERS, 'notifications'].sort());

      // The poison is in each consumer's dead letters, with its reason; the command lists it.
      const env = { ...process.env, BUS_NAMESPACE: system.namespace };
      for (const consumer of CONSUMERS) {
        const listed = await waitFor(`the poison in ${consumer}'s dead letters`, async () => {
          const { stdout } = await run(process.execPath, [...NODE_TS, cli, 'dead-letters', 'list', consumer, '--bus', o.busUrl, '--json'], { env, timeout: 60_000 });
          const items = JSON.parse(stdout) as { eventId: string; reason: string; attempts: number }[];
          return items.find((d) => d.eventId === poisonId);
        }, 30_000, 500);
        assert.match(listed.reason, /malformed/);
      }
      note('poison listed in the dead letters of identity, scheduling and notifications');
      console.log(`${operations.length} cascades in ${((Date.now() - started) / 1000).toFixed(1)} s on ${name}: ${log.join('; ')}`);
    }, 600_000);
  });
}
