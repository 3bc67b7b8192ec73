import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { KafkaBus } from '../../src/bus/kafka.js';
import { deleteKafkaNamespaces, kafkaScriptEnv } from '../support/brokers.js';
import { deactivation, uniqueName } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { busContract } from './bus.contract.js';

const url = process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092';
const brokers = url.replace(/^kafka:\/\//, '').split(',').filter(Boolean);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);
// The broker of `url` (npm test's own), never the default one on 9092 unless that is the one given.
const kafkaSh = (command: string) => run('bash', ['scripts/kafka.sh', command], { cwd: root, env: kafkaScriptEnv(url) });

const admin = new kafkajs.Kafka({ clientId: 'roster-kafka-test', brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
const namespaces = new Set<string>();
const t0 = Date.now();
const debugLine = (level: string) => (obj: object, msg: string) =>
  console.error(`${((Date.now() - t0) / 1000).toFixed(2)} ${level} ${msg} ${JSON.stringify(obj).slice(0, 300)}`);
const debugLogger = { debug: debugLine('debug'), info: debugLine('info'), warn: debugLine('warn'), error: debugLine('error') };

// DEBUG_KAFKA_BUS=1 prints the adapter's (and kafkajs') warnings with a timestamp.
const makeBus = async (namespace: string) => {
  namespaces.add(namespace);
  const logger = process.env.DEBUG_KAFKA_BUS ? debugLogger : undefined;
  const bus = new KafkaBus({ brokers, namespace, instanceId: randomUUID().slice(0, 8), logger });
  await bus.connect();
  return bus;
};

// Leave nothing behind: every topic and consumer group of the namespaces used here. A group whose
// member died with the broker (in the restart test) stays non-empty until its session times out.
afterAll(async () => {
  await admin.disconnect();
  await deleteKafkaNamespaces(brokers, namespaces);
});

busContract('kafka', {
  makeBus,
  // SIGKILL (a crash, not a clean shutdown), then start again on the same data; `start` waits
  // until the broker serves metadata and its group coordinator has loaded.
  restartBroker: async () => {
    await kafkaSh('kill');
    await kafkaSh('start');
  },
  // `subscribe()` resolves once the consumer has joined its group and has its partitions, so
  // no settling time is needed.
  settleMs: 0,
  timeoutMs: 20_000,
});

describe('kafka adapter specifics', () => {
  it('writes records keyed by subject to the family topic, with CloudEvents ce_ headers', async () => {
    const namespace = uniqueName('kafka-specific');
    const bus = await makeBus(namespace);
    const reader = new kafkajs.Kafka({ clientId: 'roster-kafka-test-reader', brokers, logLevel: kafkajs.logLevel.NOTHING })
      .consumer({ groupId: `${namespace}.raw-reader`, maxWaitTimeInMs: 100 });
    try {
      const topics = await admin.connect().then(() => admin.fetchTopicMetadata({ topics: [`${namespace}.user`, `${namespace}.dead-letter`] }));
      for (const t of topics.topics) assert.equal(t.partitions.length, 3, `${t.name} has 3 partitions`);

      const event = deactivation(randomUUID(), 7);
      await bus.publish([event]);
      const records: kafkajs.KafkaMessage[] = [];
      await reader.connect();
      await reader.subscribe({ topic: `${namespace}.user`, fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => void records.push(message) });
      const record = await waitFor('the record', () => records[0], 20_000);
      assert.equal(record.key?.toString(), event.subject);
      assert.deepEqual(JSON.parse(record.value!.toString()), event.data);
      const headers = Object.fromEntries(Object.entries(record.headers ?? {}).map(([k, v]) => [k, String(v)]));
      assert.equal(headers['ce_id'], event.id);
      assert.equal(headers['ce_type'], 'user.deactivated');
      assert.equal(headers['ce_subject'], event.subject);
      assert.equal(headers['ce_specversion'], '1.0');
      assert.equal(headers['ce_subjectversion'], '7');
      assert.equal(headers['content-type'], 'application/json');
    } finally {
      await reader.disconnect();
      await bus.close();
    }
  });

  it('starts a new group at its subscription, and a group that comes back where it stopped', async () => {
    const namespace = uniqueName('kafka-specific');
    const bus = await makeBus(namespace);
    const group = uniqueName('resume');
    const seen: string[] = [];
    const subscribe = () => bus.subscribe({ group, types: ['user.deactivated'], handler: async (e) => void seen.push(e.id) });
    try {
      const before = deactivation(randomUUID());
      await bus.publish([before]);
      let subscription = await subscribe();
      const first = deactivation(randomUUID());
      await bus.publish([first]);
      await waitFor('the event published after subscribing', () => seen.includes(first.id), 20_000);
      await subscription.close();
      const whileAway = deactivation(randomUUID());
      await bus.publish([whileAway]);
      subscription = await subscribe();
      await waitFor('the event published while away', () => seen.includes(whileAway.id), 20_000);
      await new Promise((r) => setTimeout(r, 300));
      await subscription.close();
      assert.deepEqual(seen, [first.id, whileAway.id], 'nothing from before the group existed, nothing twice');
    } finally {
      await bus.close();
    }
  });
});
