// The brokers `npm test` runs its suites against: a RabbitMQ node and a Kafka broker of its own,
// started for the run on other ports with their own data, and stopped at its end. Some suites
// restart the broker they were given (a crash, an outage): they restart these, never a broker
// that something else on the machine uses. TEST_AMQP_URL / TEST_KAFKA_URL point the tests at
// another broker instead (which they may then restart: the README says so).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { reachable } from './servers.mjs';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

async function waitUntil(what, probe, ms) {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A RabbitMQ node `roster-test@localhost` on `port`, from an empty data folder. */
export async function startTestRabbit({ port = Number(process.env.TEST_RABBITMQ_PORT ?? 5673), base = '/tmp/roster-test-rabbitmq' } = {}) {
  const node = 'roster-test@localhost';
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const ctl = (args, timeout = 60_000) => run('rabbitmqctl', ['-n', node, ...args], { timeout });
  await ctl(['stop']).catch(() => undefined); // left running by an interrupted run
  if (await reachable(url)) throw new Error(`port ${port} is taken by another process: set TEST_RABBITMQ_PORT, or TEST_AMQP_URL to use a broker of your own`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(join(base, 'log'), { recursive: true });
  writeFileSync(join(base, 'env.conf'), [
    `NODENAME=${node}`, `NODE_PORT=${port}`, `DIST_PORT=${port + 20000}`, `MNESIA_BASE=${base}/mnesia`, `LOG_BASE=${base}/log`,
    `CONFIG_FILE=${base}/rabbitmq.conf`, `ENABLED_PLUGINS_FILE=${base}/enabled_plugins`, `PID_FILE=${base}/pid`, 'ERL_EPMD_ADDRESS=127.0.0.1', '',
  ].join('\n'));
  writeFileSync(join(base, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  writeFileSync(join(base, 'enabled_plugins'), '[].\n');
  // The server runs as the rabbitmq user where the package made one: it must own its folder.
  await run('chown', ['-R', 'rabbitmq:rabbitmq', base]).catch(() => undefined);
  const env = { ...process.env, RABBITMQ_CONF_ENV_FILE: join(base, 'env.conf'), ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}' };
  const server = spawn('rabbitmq-server', ['-detached'], { env, stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    server.on('error', (e) => reject(new Error(`cannot run rabbitmq-server (${e.code}): install it (apt-get install rabbitmq-server)`)));
    server.on('exit', resolve);
  });
  // await_startup fails at once while the node is not registered yet: asked again until it answers.
  let lastError = '';
  await waitUntil('the test RabbitMQ node to start', async () => {
    try {
      await ctl(['await_startup', '--timeout', '30'], 40_000);
      return true;
    } catch (e) {
      lastError = e.stderr?.split('\n').find(Boolean) ?? e.message;
      return false;
    }
  }, 120_000).catch((e) => {
    throw new Error(`${e.message}: ${lastError} (logs in ${base}/log)`);
  });
  await waitUntil(`RabbitMQ listening on ${port}`, () => reachable(url), 30_000);
  return {
    name: 'RabbitMQ', url, env: { TEST_AMQP_URL: url, TEST_RABBITMQ_NODE: node },
    async stop() {
      await ctl(['stop']).catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A single-node Kafka broker on `port` (scripts/kafka.sh), from an empty data folder. */
export async function startTestKafka({ port = Number(process.env.TEST_KAFKA_PORT ?? 9192), data = `/tmp/roster-test-kafka-${port}` } = {}) {
  const url = `kafka://127.0.0.1:${port}`;
  const env = { ...process.env, KAFKA_PORT: String(port), ROSTER_KAFKA_DATA: data };
  const script = join(root, 'scripts', 'kafka.sh');
  if (existsSync(data)) await run('bash', [script, 'stop'], { env, timeout: 60_000 }).catch(() => undefined);
  rmSync(data, { recursive: true, force: true });
  await run('bash', [script, 'start'], { env, timeout: 300_000 }).catch((e) => {
    throw new Error(`the test Kafka broker did not start: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-3).join(' | ')}`);
  });
  return {
    name: 'Kafka', url, env: { TEST_KAFKA_URL: url, TEST_KAFKA_DATA: data },
    async stop() {
      await run('bash', [script, 'stop'], { env, timeout: 60_000 }).catch(() => undefined);
      rmSync(data, { recursive: true, force: true });
    },
  };
}
