#!/usr/bin/env node
// `roster` (npm exec roster, from any folder of the repository): the SRE's command line (B4, rule 9).
//   roster trace <operationId>          a cascade's timeline
//   roster dead-letters list|redrive <service>
// `roster --help` and `roster <command> --help` say the rest: options, environment, exit codes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { authHeaders, fetchOperation, renderTimeline, timelineOf, UsageError } from './lib/roster-trace.mjs';
import { checkBus, listDeadLetters, redriveDeadLetters, renderDeadLetters } from './lib/roster-dead-letters.mjs';

const SERVICES = ['identity', 'directory', 'scheduling', 'notifications'];
/** Consumer groups with dead letters: each service's own, and its revocation feed's. */
const GROUPS = [...SERVICES, ...SERVICES.map((s) => `${s}-revocations`)];

const USAGE = `usage: roster <command> [options]

commands:
  trace <operationId>                 a cascade's timeline (B4)
  dead-letters list <service>         what a consumer group gave up on, with the reasons
  dead-letters redrive <service>      send those events again, once the cause is fixed

  roster <command> --help             a command's options, environment and exit codes
  roster --version                    the version

exit codes: 0 done, 1 error (unreachable server, refused credentials ...), 2 usage;
trace also: 3 the cascade is still pending, 4 it failed.`;

const HELP = {
  trace: `usage: roster trace <operationId> [--tenant <id>] [--url <directory url>] [--json]

Prints a cascade's timeline: each service's step, outcome, counts, duration, offset from the
command and trace id, and which services it still waits for.

options:
  --tenant <id>   the tenant whose operation it is (with the operator key)
  --url <url>     the directory's URL
  --json          the timeline as JSON

environment:
  ROSTER_TOKEN            a bearer token of the tenant (wins over the operator key)
  ROSTER_OPERATOR_KEY     the operator key, acting on --tenant or ROSTER_TENANT
  ROSTER_TENANT           the tenant when --tenant is not given
  ROSTER_DIRECTORY_URL    the directory's URL when --url is not given (default http://127.0.0.1:4002)

exit codes: 0 completed, 3 pending, 4 failed, 1 error (directory unreachable, credentials
refused, operation not found), 2 usage.`,
  'dead-letters': `usage: roster dead-letters list <service> [--bus <url>] [--namespace <ns>] [--json]
       roster dead-letters redrive <service> [--bus <url>] [--namespace <ns>] [--id <eventId>]... [--json]

list     the consumer group's dead letters (event id, type, subject, reason, attempts), read
         without removing anything
redrive  republishes them under their event type (only --id ones when given); consumers that
         handled an event before ignore it again (their inbox)

<service> is a consumer group: ${GROUPS.join(', ')}.

options:
  --bus <url>        amqp://… (RabbitMQ) or kafka://host:port[,host:port] (Kafka)
  --namespace <ns>   the bus namespace the services run with
  --id <eventId>     redrive only this event (repeatable)
  --json             machine-readable output

environment:
  BUS_URL         the bus when --bus is not given (the in-memory bus keeps no dead letters
                  outside its process: there is nothing to list in the embedded mode)
  BUS_NAMESPACE   the namespace when --namespace is not given (default roster)

exit codes: 0 done, 1 error (bus unreachable ...), 2 usage (unknown service ...).`,
};

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
  if (!operationId) throw new UsageError('trace needs an operation id', 'trace');
  const headers = authHeaders(process.env, flags.tenant ?? process.env.ROSTER_TENANT);
  const url = flags.url ?? process.env.ROSTER_DIRECTORY_URL ?? 'http://127.0.0.1:4002';
  const timeline = timelineOf(await fetchOperation(url, operationId, headers));
  console.log(flags.json ? JSON.stringify(timeline, null, 2) : renderTimeline(timeline));
  return { completed: 0, pending: 3, failed: 4 }[timeline.status] ?? 0;
}

async function deadLetters({ positional, flags }) {
  const [action, group] = positional;
  if (!['list', 'redrive'].includes(action) || !group) throw new UsageError('dead-letters list|redrive <service>', 'dead-letters');
  if (!GROUPS.includes(group)) throw new UsageError(`unknown service "${group}" (one of: ${GROUPS.join(', ')})`, 'dead-letters');
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

/** What a failure means to the person at the terminal, in one line (a broker client's error codes made plain). */
function oneLine(error, command, flags) {
  const message = error instanceof Error ? error.message : String(error);
  if (command !== 'dead-letters') return message.split('\n')[0];
  const code = error?.code ?? error?.cause?.code;
  const bus = flags?.bus ?? process.env.BUS_URL;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code) || /ECONNREFUSED|Connection error|connect ETIMEDOUT|ENOTFOUND/.test(message)) {
    return `cannot reach the bus at ${redact(bus)}: ${code ?? message}`;
  }
  if (/ACCESS_REFUSED|authentication|SASL/i.test(message)) return `the bus at ${redact(bus)} refused the credentials: ${message.split('\n')[0]}`;
  return message.split('\n')[0];
}
const redact = (url) => String(url ?? '').replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

const version = () => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

let args;
try {
  const [command, ...rest] = process.argv.slice(2);
  if (command === '--version' || command === '-V' || command === 'version') {
    console.log(`roster ${version()}`);
    process.exit(0);
  }
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    console.log(topic && HELP[topic] ? HELP[topic] : USAGE);
    process.exit(command ? 0 : 2);
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command "${command}"`);
  args = parseArgs(rest);
  if (args.flags.help) {
    console.log(HELP[command]);
    process.exit(0);
  }
  process.exitCode = await run(args);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`roster: ${error.message}\n${error.command ? `(roster ${error.command} --help for its usage)` : USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`roster: ${oneLine(error, process.argv[2], args?.flags)}`);
    if (process.env.ROSTER_DEBUG) console.error(error);
    process.exitCode = 1;
  }
}
// Broker clients may keep timers alive after closing: the command is over.
process.exit(process.exitCode ?? 0);
