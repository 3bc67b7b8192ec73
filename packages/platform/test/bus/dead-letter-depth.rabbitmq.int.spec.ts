import assert from 'node:assert/strict';
import { afterAll, describe, it } from '@jest/globals';
import amqplib from 'amqplib';
import { RabbitMqBus } from '../../src/bus/rabbitmq.js';
import { createMetrics } from '../../src/metrics.js';
import { deleteRabbitNamespaces } from '../support/brokers.js';
import { uniqueName } from '../support/events.js';
import { deadLetterDepthSuite, depthShown, scrapeWhileBrokerDown } from './dead-letter-depth.suite.js';

const url = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const namespaces = new Set<string>();

const makeBus = async (namespace: string) => {
  namespaces.add(namespace);
  const bus = new RabbitMqBus({ url, namespace, instanceId: uniqueName('depth') });
  await bus.connect();
  return bus;
};

afterAll(async () => {
  assert.deepEqual(await deleteRabbitNamespaces(url, namespaces), [], 'the tests leave no broker object behind');
});

deadLetterDepthSuite('rabbitmq', { makeBus });

describe('dead-letter depth on RabbitMQ: asking changes nothing and never hangs', () => {
  it('reports 0 for a group whose dead queue was never declared, without declaring it', async () => {
    const namespace = uniqueName('depth-passive');
    const bus = await makeBus(namespace);
    try {
      const metrics = createMetrics('directory');
      metrics.watchDeadLetterDepth(['directory'], (group) => bus.deadLetterDepth(group), { cacheMs: 0 });
      assert.equal(await depthShown(metrics, 'directory'), 0);
      assert.equal(await depthShown(metrics, 'directory'), 0, 'asking twice is as harmless');
      const conn = await amqplib.connect(url);
      try {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await assert.rejects(ch.checkQueue(`${namespace}.directory.dead`), /NOT_FOUND/, 'no queue was created');
      } finally {
        await conn.close().catch(() => undefined);
      }
      assert.ok(bus.isHealthy(), 'the 404 closed only a scratch channel');
    } finally {
      await bus.close();
    }
  });

  it('answers a scrape at once, with no series, while the broker cannot be reached', async () => {
    await scrapeWhileBrokerDown(() => new RabbitMqBus({ url: 'amqp://guest:guest@127.0.0.1:1', namespace: uniqueName('depth-down'), instanceId: 'down' }));
  });
});
