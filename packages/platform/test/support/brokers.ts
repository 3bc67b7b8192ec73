import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqplib from 'amqplib';

const run = promisify(execFile);

/**
 * The RabbitMQ node the tests use (rabbitmqctl -n): npm test's own node (TEST_RABBITMQ_NODE, set by
 * scripts/test.mjs), never the machine's default one unless named.
 */
export const rabbitNode = process.env.TEST_RABBITMQ_NODE ?? 'rabbit@localhost';

/** Environment for scripts/kafka.sh to act on the broker of `url`: the default one on 9092, else `TEST_KAFKA_DATA` or /tmp/roster-kafka-<port>. */
export function kafkaScriptEnv(url: string): NodeJS.ProcessEnv {
  const { port } = new URL(url.replace(/^kafka:\/\//, 'http://').split(',')[0]!);
  const p = port || '9092';
  if (p === '9092' && !process.env.TEST_KAFKA_DATA) return { ...process.env, KAFKA_PORT: p };
  return { ...process.env, KAFKA_PORT: p, ROSTER_KAFKA_DATA: process.env.TEST_KAFKA_DATA ?? `/tmp/roster-kafka-${p}` };
}

/** rabbitmqctl against the tests' node. */
export const rabbitmqctl = (args: string[], timeout = 60_000) => run('rabbitmqctl', ['-n', rabbitNode, ...args], { timeout });

/** Names of the RabbitMQ queues or exchanges of a vhost (rabbitmqctl: the broker runs on this machine in tests). */
export async function listRabbitNames(what: 'queues' | 'exchanges', vhost = '/'): Promise<string[]> {
  const { stdout } = await rabbitmqctl([`list_${what}`, '-q', '--no-table-headers', '-p', vhost, 'name'], 30_000);
  return stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** Deletes every queue and exchange whose name starts with one of `namespaces` + '.'; returns what is left. */
export async function deleteRabbitNamespaces(url: string, namespaces: Iterable<string>): Promise<string[]> {
  const prefixes = [...namespaces].map((ns) => `${ns}.`);
  const ours = (name: string) => prefixes.some((prefix) => name.startsWith(prefix));
  const vhost = decodeURIComponent(new URL(url).pathname.slice(1)) || '/';
  const [queues, exchanges] = await Promise.all([listRabbitNames('queues', vhost), listRabbitNames('exchanges', vhost)]);
  const conn = await amqplib.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const queue of queues.filter(ours)) await ch.deleteQueue(queue);
    for (const exchange of exchanges.filter(ours)) await ch.deleteExchange(exchange);
    await ch.close();
  } finally {
    await conn.close();
  }
  return [...(await listRabbitNames('queues', vhost)), ...(await listRabbitNames('exchanges', vhost))].filter(ours);
}

/**
 * Deletes every Kafka topic and consumer group whose name starts with one of `namespaces` + '.'.
 * A group whose member died with the broker stays non-empty until its session times out, hence the retries.
 */
export async function deleteKafkaNamespaces(brokers: string[], namespaces: Iterable<string>): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'roster-test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  const prefixes = [...namespaces].map((ns) => `${ns}.`);
  const mine = (name: string) => prefixes.some((p) => name.startsWith(p));
  await admin.connect();
  try {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(mine);
      if (groups.length === 0) break;
      if (attempt > 1) await new Promise((r) => setTimeout(r, 2_000));
      await admin.deleteGroups(groups).catch(() => undefined);
    }
    const topics = (await admin.listTopics()).filter(mine);
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
