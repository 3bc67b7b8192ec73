import type { PathResult } from './measure.js';

/** How a row compares to another measured in the same run. */
export interface Comparison {
  /** The row compared against. */
  against: string;
  throughput: number;
  p50: number;
  p99: number;
  /** Whether the target applies (adapter vs raw loop): `throughput ≥ target`, latency ≤ 1/target. */
  target?: number;
  /** Paced runs: both sides were offered the same rate, only latency compares. */
  latencyOnly?: boolean;
}

export interface Row extends PathResult {
  vs?: Comparison | string;
}

export function compare(
  row: PathResult, base: PathResult, options: { target?: number; label?: string; latencyOnly?: boolean } = {},
): Comparison {
  const { target, label, latencyOnly } = options;
  return {
    ...(latencyOnly ? { latencyOnly } : {}),
    against: label ?? base.path,
    throughput: row.perSecond / base.perSecond,
    p50: row.p50Ms / base.p50Ms,
    p99: row.p99Ms / base.p99Ms,
    ...(target !== undefined ? { target } : {}),
  };
}

const x = (n: number) => `${n >= 10 ? n.toFixed(0) : n.toFixed(2)}×`;
const mark = (ok: boolean) => (ok ? ' ✓' : ' ✗');

export function describe(c: Comparison | string | undefined): string {
  if (c === undefined) return '—';
  if (typeof c === 'string') return c;
  if (c.target === undefined) {
    return `${x(c.throughput)} of ${c.against} (p50 ${x(c.p50)}, p99 ${x(c.p99)})`;
  }
  const t = c.target;
  if (c.latencyOnly) return `p50 ${x(c.p50)}${mark(c.p50 <= 1 / t)} · p99 ${x(c.p99)}${mark(c.p99 <= 1 / t)}`;
  return `${x(c.throughput)}${mark(c.throughput >= t)} · p50 ${x(c.p50)}${mark(c.p50 <= 1 / t)} · p99 ${x(c.p99)}${mark(c.p99 <= 1 / t)}`;
}

const num = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n: number) => (!Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| path | events | events/s | p50 ms | p99 ms | vs raw |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.path} | ${num(r.events)} | ${num(r.perSecond)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${describe(r.vs)} |`);
  }
  return lines.join('\n');
}

/**
 * The bench process's CPU per event (producer + consumer), next to the raw loop's: the client
 * code's cost, which the machine's other load barely moves (unlike events/s on 2 cores). Saturated
 * and outbox rows only.
 */
export function cpuTable(rows: readonly Row[]): string {
  const lines = ['| path | client CPU µs/event | vs raw |', '|---|---:|---|'];
  const byPath = new Map(rows.map((r) => [r.path, r]));
  for (const r of rows) {
    // Paced runs spread fixed per-second costs (heartbeats, fetch loops) over few events: not comparable.
    if (r.cpuUsPerEvent === undefined || r.path.includes('· paced')) continue;
    const against = typeof r.vs === 'object' && r.vs.target !== undefined ? byPath.get(r.vs.against) : undefined;
    const delta = against?.cpuUsPerEvent !== undefined
      ? `${(r.cpuUsPerEvent / against.cpuUsPerEvent).toFixed(2)}× (+${(r.cpuUsPerEvent - against.cpuUsPerEvent).toFixed(0)} µs)`
      : '—';
    lines.push(`| ${r.path} | ${r.cpuUsPerEvent.toFixed(0)} | ${delta} |`);
  }
  return lines.join('\n');
}
