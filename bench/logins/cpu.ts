import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (ms) by where it was spent, read from /proc (Linux): this process's event loop (its main
 * thread), its other threads (libuv's pool, where argon2 hashes, and V8's helpers), and every
 * Postgres process. Differences of two readings divided by operations give CPU per operation.
 */
export interface CpuReading { eventLoop: number; otherThreads: number; postgres: number }

const TICK_MS = 10; // USER_HZ is 100 on Linux

function ticks(statPath: string): { name: string; ms: number; reapedMs: number; ppid: string } | null {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime; cutime + cstime: the time of children that ended and were reaped.
    return { name, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS, reapedMs: (Number(fields[13]) + Number(fields[14])) * TICK_MS, ppid: fields[1]! };
  } catch {
    return null; // the process or thread ended meanwhile
  }
}

export function readCpu(): CpuReading {
  let eventLoop = 0;
  let otherThreads = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    const t = ticks(`/proc/self/task/${tid}/stat`);
    if (!t) continue;
    if (tid === String(process.pid)) eventLoop += t.ms;
    else otherThreads += t.ms;
  }
  // Every Postgres process, and the backends that ended (a pool closing idle connections): their
  // time moves to the postmaster's reaped-children time, so counting that keeps deltas whole.
  const pgProcesses = new Map<string, NonNullable<ReturnType<typeof ticks>>>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const p = ticks(`/proc/${pid}/stat`);
    if (p?.name.startsWith('postgres')) pgProcesses.set(pid, p);
  }
  let postgres = 0;
  for (const p of pgProcesses.values()) postgres += p.ms + (pgProcesses.has(p.ppid) ? 0 : p.reapedMs);
  return { eventLoop, otherThreads, postgres };
}

export const cpuSince = (from: CpuReading): CpuReading => {
  const now = readCpu();
  return { eventLoop: now.eventLoop - from.eventLoop, otherThreads: now.otherThreads - from.otherThreads, postgres: now.postgres - from.postgres };
};
