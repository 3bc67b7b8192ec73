import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from '@jest/globals';
import { KafkaBus } from '../../src/bus/kafka.js';
import { deleteKafkaNamespaces } from '../support/brokers.js';
import { uniqueName } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { deadLetterDepthSuite, scrapeWhileBrokerDown } from './dead-letter-depth.suite.js';

const url = process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092';
const brokers = url.replace(/^kafka:\/\//, '').split(',').filter(Boolean);
const namespaces = new Set<string>();

const makeBus = async (namespace: string) => {
  namespaces.add(namespace);
  const bus = new KafkaBus({ brokers, namespace, instanceId: randomUUID().slice(0, 8) });
  await bus.connect();
  return bus;
};

// Leave nothing behind: the topics and consumer groups (the redrive cursors, the depth scanners).
afterAll(async () => {
  await deleteKafkaNamespaces(brokers, namespaces);
});

// A redrive joins the reader group and commits its cursor: slower than the queues.
deadLetterDepthSuite('kafka', { makeBus, timeoutMs: 30_000 });

describe('dead-letter depth on Kafka: bounded and tidy', () => {
  it('answers a scrape at once, with no series, while the bus is not connected', async () => {
    await scrapeWhileBrokerDown(() => new KafkaBus({ brokers: ['127.0.0.1:1'], namespace: uniqueName('depth-down'), instanceId: 'down' }));
  });

  it('deletes its scanner\'s consumer group when the bus closes', async () => {
    const namespace = uniqueName('depth-tidy');
    const bus = await makeBus(namespace);
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ clientId: 'roster-depth-test', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const scanners = async () => (await admin.listGroups()).groups.map((g) => g.groupId)
        .filter((g) => g.startsWith(`${namespace}.dead-letter-depth.`));
      // The first scrape may time out while the scanner joins; a later one answers.
      let depth: number | undefined;
      let why: unknown;
      for (let i = 0; i < 20 && depth === undefined; i++) depth = await bus.deadLetterDepth('directory').catch((error) => void (why = error));
      assert.equal(depth, 0, `no depth: ${String(why)}`);
      // An empty topic is counted without waiting for the scanner, which may still be joining its group.
      await waitFor('the scanner to join its consumer group', async () => (await scanners()).length > 0);
      assert.equal((await scanners()).length, 1, 'one scanner for the bus');
      await bus.close();
      assert.deepEqual(await scanners(), [], 'its group is gone with the bus');
    } finally {
      await bus.close();
      await admin.disconnect();
    }
  });
});
