import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kafkaScriptEnv } from '../../../packages/platform/test/support/brokers.js';

export { kafkaScriptEnv };

/*
 * Restarting the broker a test was given, from its URL: the fault tests restart whichever
 * RabbitMQ node or Kafka broker they run against (the default ones in CI, which runs test files one
 * at a time; private ones while developing next to other people's tests).
 */

const run = promisify(execFile);
const kafkaScript = fileURLToPath(new URL('../../../scripts/kafka.sh', import.meta.url));

/** The RabbitMQ node (`name@host`) that listens for AMQP on `url`'s port: `TEST_RABBITMQ_NODE`, else asked of every node epmd knows. */
export async function rabbitNodeOf(url: string): Promise<string> {
  if (process.env.TEST_RABBITMQ_NODE) return process.env.TEST_RABBITMQ_NODE;
  const port = Number(new URL(url).port || 5672);
  const { stdout } = await run('epmd', ['-names'], { timeout: 10_000 });
  const names = [...stdout.matchAll(/^name (\S+) at port \d+/gm)].map((m) => `${m[1]}@localhost`);
  for (const node of names) {
    try {
      const out = await run('rabbitmq-diagnostics', ['-q', '-n', node, 'listeners', '--formatter', 'json'], { timeout: 30_000 });
      const listeners = (JSON.parse(out.stdout) as { listeners: { port: number; protocol: string }[] }).listeners;
      if (listeners.some((l) => l.port === port && l.protocol === 'amqp')) return node;
    } catch {
      // not a RabbitMQ node, or not answering: not ours
    }
  }
  throw new Error(`no RabbitMQ node on this machine listens on port ${port} (nodes: ${names.join(', ') || 'none'}); set TEST_RABBITMQ_NODE`);
}

/**
 * Restarts the RabbitMQ broker of `url`: the application stops (every connection is closed, as in a
 * crash of the broker), stays down `downMs`, then starts again from its durable queues on disk.
 */
export async function restartRabbit(url: string, downMs = 1_000): Promise<void> {
  const node = await rabbitNodeOf(url);
  await run('rabbitmqctl', ['-n', node, 'stop_app'], { timeout: 60_000 });
  await new Promise((r) => setTimeout(r, downMs));
  await run('rabbitmqctl', ['-n', node, 'start_app'], { timeout: 120_000 });
  await run('rabbitmqctl', ['-n', node, 'await_startup'], { timeout: 120_000 });
}

/** Kills the Kafka broker of `url` (SIGKILL, a crash), keeps it down `downMs`, starts it again on the same data and waits until it is ready. */
export async function restartKafka(url: string, downMs = 1_000): Promise<void> {
  const env = kafkaScriptEnv(url);
  await run('bash', [kafkaScript, 'kill'], { env, timeout: 60_000 });
  await new Promise((r) => setTimeout(r, downMs));
  await run('bash', [kafkaScript, 'start'], { env, timeout: 180_000 });
}

/** Restarts the broker behind `busUrl` (amqp:// or kafka://). */
export function restartBroker(busUrl: string, downMs?: number): Promise<void> {
  if (busUrl.startsWith('amqp')) return restartRabbit(busUrl, downMs);
  if (busUrl.startsWith('kafka')) return restartKafka(busUrl, downMs);
  throw new Error(`cannot restart the broker of ${busUrl}`);
}
