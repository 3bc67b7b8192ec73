// What the cascades cost the machine, read from outside the code under test: Postgres commits
// (pg_stat_database), events the services published and consumed (their own bus metrics), and
// CPU time of the Node process running the four services, of Postgres and of the broker.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { SERVICES } from '@roster/contracts';
import type { System } from '../../tests/e2e/support/system.js';

export type Transport = 'rabbitmq' | 'kafka';

/** Counters at one instant; every field only grows. */
export interface Snapshot {
  /** performance.now() */
  at: number;
  /** Σ xact_commit of the four service databases (read-only transactions included). */
  commits: number;
  /** Events the four services' relays published and the broker confirmed. */
  published: number;
  /** Deliveries the services' consumers handled. */
  delivered: number;
  /** `postgresBackends`: the part of `postgres` spent by backends connected to the four databases (other work on the server left out). */
  cpuMs: { node: number; postgres: number; postgresBackends: number; broker: number };
}

/** Per-cascade figures of a measured phase. */
export interface Evidence {
  cascades: number;
  /** First request → the bus quiet again (every event of the phase published and handled): the CPU window. */
  loadSeconds: number;
  /** First request → the settled counters (pg_stat_database lags up to 10 s): the commit window. */
  windowSeconds: number;
  /** Net of the idle system's commits (relay polls …) over the window, and of the bench's own polling. */
  commits: number;
  published: number;
  delivered: number;
  /** Over the load window, idle background included (see `idleCpuMsPerCascade`). */
  cpuMs: { node: number; postgres: number; postgresBackends: number; broker: number; total: number };
  /** What the idle system spends per second × the load window ÷ cascades: the part of `cpuMs` that is background. */
  idleCpuMsPerCascade: Snapshot['cpuMs'];
  /** What the idle system did per second. */
  idlePerSecond: Omit<Snapshot, 'at'>;
  /** Raw deltas: counters over the window, CPU over the load window. */
  raw: Omit<Snapshot, 'at'>;
}

let clockTicks = 0;
const ticksPerSecond = () => {
  if (!clockTicks) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
};

interface ProcStat { pid: number; comm: string; ppid: number; own: number; children: number }

function procStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: fields are counted after the last ')'.
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      // f[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17.
      out.push({
        pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(f[1]),
        own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]),
      });
    } catch {
      // the process ended between readdir and read
    }
  }
  return out;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

/**
 * CPU ms of a group of processes: their own time, plus the reaped children's time of the group's
 * roots (a Postgres backend that exits is added to the postmaster's cutime, so a delta still counts it).
 */
function groupCpuMs(all: ProcStat[], member: (p: ProcStat) => boolean): number {
  const group = all.filter(member);
  const pids = new Set(group.map((p) => p.pid));
  const ticks = group.reduce((sum, p) => sum + p.own + (pids.has(p.ppid) ? 0 : p.children), 0);
  return (ticks * 1000) / ticksPerSecond();
}

const isBroker: Record<Transport, (p: ProcStat) => boolean> = {
  rabbitmq: (p) => p.comm === 'beam.smp',
  kafka: (p) => p.comm === 'java' && /kafka\.Kafka|kafka-server|kafka_2/.test(cmdline(p.pid)),
};

async function metricSum(system: System, name: string, labels: Record<string, string> = {}): Promise<number> {
  let sum = 0;
  for (const service of SERVICES) {
    const metric = system.services[service]?.ctx.metrics.registry.getSingleMetric(name);
    if (!metric) continue;
    for (const v of (await metric.get()).values) {
      if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
    }
  }
  return sum;
}

/** Reads the counters of one running system on one transport. */
export class SystemMeter {
  private readonly admin: pg.Pool;
  private readonly databases: string[];

  constructor(private readonly system: System, private readonly transport: Transport, adminUrl: string) {
    this.admin = new pg.Pool({ connectionString: adminUrl, max: 1 });
    this.admin.on('error', () => undefined);
    this.databases = SERVICES.map((s) => new URL(system.envOf(s).DATABASE_URL!).pathname.slice(1));
  }

  /** True when the broker's process is visible here (a broker in a container or elsewhere is not). */
  brokerVisible(): boolean {
    return procStats().some(isBroker[this.transport]);
  }

  async snapshot(): Promise<Snapshot> {
    // pg_stat_clear_snapshot: a fresh read, not the values cached earlier in the session.
    const { rows } = await this.admin.query<{ commits: string }>(
      'SELECT pg_stat_clear_snapshot(), (SELECT sum(xact_commit) FROM pg_stat_database WHERE datname = ANY($1))::text AS commits', [this.databases]);
    const published = await metricSum(this.system, 'roster_events_published_total');
    const delivered = await metricSum(this.system, 'roster_events_consumed_total', { outcome: 'handled' });
    const procs = procStats();
    const node = process.cpuUsage();
    return {
      at: performance.now(), commits: Number(rows[0]?.commits ?? 0), published, delivered,
      cpuMs: {
        node: (node.user + node.system) / 1000,
        postgres: groupCpuMs(procs, (p) => p.comm.startsWith('postgres')),
        postgresBackends: groupCpuMs(procs, (p) => p.comm.startsWith('postgres') && this.databases.some((d) => cmdline(p.pid).includes(` ${d} `))),
        broker: groupCpuMs(procs, isBroker[this.transport]),
      },
    };
  }

  /**
   * Waits until the services' bus counters have not moved for `stillMs` (every event of the
   * phase published and handled) and returns the snapshot taken when they last moved.
   */
  async quiet(stillMs = 1_000, timeoutMs = 60_000): Promise<Snapshot> {
    const deadline = performance.now() + timeoutMs;
    let last = await this.snapshot();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.snapshot();
      if (now.published !== last.published || now.delivered !== last.delivered) last = now;
      else if (now.at - last.at >= stillMs || now.at > deadline) return last;
    }
  }

  async close(): Promise<void> {
    await this.admin.end();
  }
}

type Counters = Omit<Snapshot, 'at'>;
const mapCpu = (f: (k: keyof Snapshot['cpuMs']) => number): Snapshot['cpuMs'] =>
  ({ node: f('node'), postgres: f('postgres'), postgresBackends: f('postgresBackends'), broker: f('broker') });
const minus = (a: Snapshot, b: Snapshot): Counters => ({
  commits: a.commits - b.commits, published: a.published - b.published, delivered: a.delivered - b.delivered,
  cpuMs: mapCpu((k) => a.cpuMs[k] - b.cpuMs[k]),
});
const scale = (c: Counters, k: number): Counters => ({
  commits: c.commits * k, published: c.published * k, delivered: c.delivered * k,
  cpuMs: mapCpu((key) => c.cpuMs[key] * k),
});

/**
 * Per cascade: commits and events over [from, settled] (commits minus the idle rate measured over
 * [idleFrom, idleTo] on the same system and minus `ownCommits`, the bench's own polling on the
 * service databases), CPU over [from, quiet] as measured (the idle share is given beside it:
 * subtracting it would be wrong where the idle work, Kafka consumers' empty fetches, is replaced
 * by real fetches under load).
 */
export function perCascade(
  idle: { from: Snapshot; to: Snapshot }, phase: { from: Snapshot; quiet: Snapshot; settled: Snapshot }, cascades: number, ownCommits: number,
): Evidence {
  const idleRate = scale(minus(idle.to, idle.from), 1000 / (idle.to.at - idle.from.at));
  const counted = minus(phase.settled, phase.from);
  const load = minus(phase.quiet, phase.from);
  const windowSeconds = (phase.settled.at - phase.from.at) / 1000;
  const loadSeconds = (phase.quiet.at - phase.from.at) / 1000;
  const cpuMs = mapCpu((k) => load.cpuMs[k] / cascades);
  return {
    cascades, loadSeconds, windowSeconds,
    commits: (counted.commits - ownCommits - idleRate.commits * windowSeconds) / cascades,
    published: counted.published / cascades, delivered: counted.delivered / cascades,
    cpuMs: { ...cpuMs, total: cpuMs.node + cpuMs.postgres + cpuMs.broker },
    idleCpuMsPerCascade: mapCpu((k) => (idleRate.cpuMs[k] * loadSeconds) / cascades),
    idlePerSecond: idleRate, raw: { ...counted, cpuMs: load.cpuMs },
  };
}
