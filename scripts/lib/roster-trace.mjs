// `roster trace <operationId>`: a cascade's timeline for an SRE (B4, rule 9), read from the
// directory's `GET /operations/{id}`.

/** The trace id inside a W3C traceparent (`00-<trace id>-<span id>-<flags>`), or null. */
export const traceIdOf = (traceparent) => {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(String(traceparent ?? ''));
  return m ? m[1] : null;
};

/**
 * Headers for the directory: a bearer token (ROSTER_TOKEN) wins; otherwise the operator key
 * (ROSTER_OPERATOR_KEY) acting on `tenant`.
 */
export function authHeaders(env, tenant) {
  if (env.ROSTER_TOKEN) return { authorization: `Bearer ${env.ROSTER_TOKEN}` };
  if (env.ROSTER_OPERATOR_KEY && tenant) return { 'x-operator-key': env.ROSTER_OPERATOR_KEY, 'x-roster-tenant': tenant };
  if (env.ROSTER_OPERATOR_KEY) throw new UsageError('the operator key acts on one tenant: add --tenant <id> (or ROSTER_TENANT)');
  throw new UsageError('no credentials: set ROSTER_TOKEN (a bearer token), or ROSTER_OPERATOR_KEY with --tenant <id>');
}

export class UsageError extends Error {
  /** The command whose --help explains the usage, when the error is about one. */
  constructor(message, command) {
    super(message);
    this.command = command;
  }
}

/** The operation with, per step, its offset from the command and its trace id, in time order. */
export function timelineOf(operation) {
  const origin = Date.parse(operation.createdAt);
  const steps = [...(operation.steps ?? [])]
    .map((s) => ({
      ...s,
      offsetMs: Number.isNaN(origin) ? null : Date.parse(s.at) - origin,
      traceId: s.traceId ?? traceIdOf(s.traceparent) ?? null,
    }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const end = operation.completedAt ? Date.parse(operation.completedAt) : null;
  return {
    ...operation,
    traceId: operation.traceId ?? traceIdOf(operation.traceparent) ?? steps.find((s) => s.traceId)?.traceId ?? null,
    totalMs: end !== null && !Number.isNaN(origin) ? end - origin : null,
    steps,
  };
}

const ms = (n) => (n === null || n === undefined ? '-' : n < 10 ? `${Number(n).toFixed(1)} ms` : `${Math.round(n)} ms`);
const counts = (c) => Object.entries(c ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || '-';

/** The timeline as a table, one line per step. */
export function renderTimeline(t) {
  const lines = [];
  lines.push(`operation ${t.id}  ${t.kind ?? ''}${t.dryRun ? ' (dry run)' : ''}  status ${t.status.toUpperCase()}`);
  lines.push(`  started   ${t.createdAt}${t.subjectId ? `  subject ${t.subjectId}` : ''}`);
  lines.push(`  finished  ${t.completedAt ?? '-'}${t.totalMs !== null ? `  (${ms(t.totalMs)} after the command)` : ''}`);
  if (t.traceId) lines.push(`  trace     ${t.traceId}`);
  const header = ['offset', 'service', 'step', 'outcome', 'duration', 'counts', 'trace id'];
  const rows = t.steps.map((s) => [
    s.offsetMs === null ? '-' : `+${ms(s.offsetMs)}`, s.service, s.step, s.outcome, ms(s.durationMs),
    `${counts(s.counts)}${s.events > 1 ? ` (${s.events} events)` : ''}`, s.traceId ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) => '  ' + r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  lines.push('', fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  if (rows.length === 0) lines.push('  (no step reported yet)');
  const waiting = t.waitingFor ?? [];
  const progress = (service) => (t.progress?.[service] ? ` (${t.progress[service].reported}/${t.progress[service].expected} steps)` : '');
  lines.push('', waiting.length
    ? `  waiting for: ${waiting.map((w) => `${w}${progress(w)}`).join(', ')}`
    : `  every expected service reported (${(t.expected ?? []).join(', ') || '-'})`);
  for (const s of t.steps.filter((x) => x.detail)) lines.push(`  ${s.service}: ${s.detail}`);
  return lines.join('\n');
}

/** Fetches the operation; throws a readable error for a problem answer. */
export async function fetchOperation(baseUrl, operationId, headers) {
  const url = `${baseUrl.replace(/\/$/, '')}/operations/${encodeURIComponent(operationId)}`;
  let res;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  } catch (error) {
    throw new Error(`cannot reach the directory at ${baseUrl}: ${error.cause?.code ?? error.cause?.errors?.[0]?.code ?? error.cause?.message ?? error.message}`);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (res.status === 404) throw new Error(`operation ${operationId} not found (for this tenant)`);
  if (res.status === 401 || res.status === 403) {
    throw new Error(`the directory refused the credentials (${res.status}): ${body?.detail ?? body?.title ?? 'no detail'}; check ROSTER_TOKEN, or ROSTER_OPERATOR_KEY and --tenant`);
  }
  if (!res.ok) throw new Error(`the directory answered ${res.status}: ${body?.detail ?? body?.title ?? text.slice(0, 200)}`);
  return body;
}
