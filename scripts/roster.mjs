#!/usr/bin/env node
// `npx roster`: the SRE's command line (B4, rule 9).
//
//   roster trace <operationId> [--tenant <id>] [--url http://directory:4002] [--json]
//       the cascade's timeline: each service's step, outcome, counts, duration, offset from the
//       command and trace id. Auth: ROSTER_TOKEN (bearer), or ROSTER_OPERATOR_KEY with --tenant
//       (or ROSTER_TENANT). The URL defaults to ROSTER_DIRECTORY_URL, then http://127.0.0.1:4002.
//       Exit status: 0 completed, 3 pending, 4 failed, 1 error, 2 usage.
//   roster dead-letters list <service> [--bus <url>] [--namespace <ns>] [--json]
//   roster dead-letters redrive <service> [--bus <url>] [--namespace <ns>] [--id <eventId>]... [--json]
//       the consumer group's dead letters (id, type, reason, attempts), and republishing them.
//       The bus defaults to BUS_URL, the namespace to BUS_NAMESPACE, then `roster`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { authHeaders, fetchOperation, renderTimeline, timelineOf, UsageError } from './lib/roster-trace.mjs';
import { checkBus, listDeadLetters, redriveDeadLetters, renderDeadLetters } from './lib/roster-dead-letters.mjs';

const USAGE = `usage:
  roster trace <operationId> [--tenant <id>] [--url <directory url>] [--json]
  roster dead-letters list <service> [--bus <url>] [--namespace <ns>] [--json]
  roster dead-letters redrive <service> [--bus <url>] [--namespace <ns>] [--id <eventId>]... [--json]`;

function parseArgs(argv) {
  const positional = [];
  const flags = { id: [] };
  const valued = new Set(['tenant', 'url', 'bus', 'namespace', 'id']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json' || arg === '--help' || arg === '-h') flags[arg.replace(/^-+/, '')] = true;
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
      if (!valued.has(name)) throw new UsageError(`unknown option --${name}`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      if (name === 'id') flags.id.push(value);
      else flags[name] = value;
    } else positional.push(arg);
  }
  return { positional, flags };
}

/** The platform's bus factory: the built one, or the TypeScript sources when running under tsx. */
async function loadCreateBus() {
  try {
    return (await import('@roster/platform/bus/index')).createBus;
  } catch (error) {
    if (process.env.ROSTER_CLI_REEXEC) throw error;
    // Not built (a checkout without `npm run build`): run again on the sources.
    const again = spawnSync(process.execPath, ['--conditions=roster-source', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit', env: { ...process.env, ROSTER_CLI_REEXEC: '1' },
    });
    process.exit(again.status ?? 1);
  }
}

async function trace({ positional, flags }) {
  const [operationId] = positional;
  if (!operationId) throw new UsageError('trace needs an operation id');
  const headers = authHeaders(process.env, flags.tenant ?? process.env.ROSTER_TENANT);
  const url = flags.url ?? process.env.ROSTER_DIRECTORY_URL ?? 'http://127.0.0.1:4002';
  const timeline = timelineOf(await fetchOperation(url, operationId, headers));
  console.log(flags.json ? JSON.stringify(timeline, null, 2) : renderTimeline(timeline));
  return { completed: 0, pending: 3, failed: 4 }[timeline.status] ?? 0;
}

async function deadLetters({ positional, flags }) {
  const [action, group] = positional;
  if (!['list', 'redrive'].includes(action) || !group) throw new UsageError('dead-letters list|redrive <service>');
  const busUrl = flags.bus ?? process.env.BUS_URL;
  checkBus(busUrl);
  const namespace = flags.namespace ?? process.env.BUS_NAMESPACE ?? 'roster';
  if (action === 'list') {
    const items = await listDeadLetters({ busUrl, namespace, group });
    console.log(flags.json ? JSON.stringify(items, null, 2) : renderDeadLetters(group, items));
    return 0;
  }
  const createBus = await loadCreateBus();
  const result = await redriveDeadLetters({ busUrl, namespace, group, ids: flags.id.length ? flags.id : undefined, createBus });
  if (flags.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`redriven ${result.redriven.length} dead letter(s) of ${group}`);
    for (const d of result.redriven) console.log(`  ${d.eventId}  ${d.eventType}`);
    for (const d of result.keptBack) console.log(`  kept back ${d.eventId ?? '-'}: ${d.why}`);
  }
  return 0;
}

const COMMANDS = { trace, 'dead-letters': deadLetters };

try {
  const [command, ...rest] = process.argv.slice(2);
  const args = parseArgs(rest);
  if (!command || command === '--help' || command === '-h' || args.flags.help) {
    console.log(USAGE);
    process.exit(command ? 0 : 2);
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command "${command}"`);
  process.exitCode = await run(args);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`roster: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`roster: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
// Broker clients may keep timers alive after closing: the command is over.
process.exit(process.exitCode ?? 0);
