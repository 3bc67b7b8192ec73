import assert from 'node:assert/strict';
import { afterAll, describe, it } from '@jest/globals';
import amqplib from 'amqplib';
import { RabbitMqBus } from '../../src/bus/rabbitmq.js';
import { deleteRabbitNamespaces } from '../support/brokers.js';
import { uniqueName } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { assertAllValid, wireSamples, wireValidator } from './asyncapi-wire.js';

const url = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const namespace = uniqueName('wire');

afterAll(async () => {
  await deleteRabbitNamespaces(url, [namespace]);
});

// Issue 16 item 10: what a RabbitMQ subscriber of ours receives is what asyncapi.yaml says.
describe('AsyncAPI describes the wire: RabbitMQ', () => {
  it('every message, read with plain amqplib from a queue bound to the exchange, validates against the document', async () => {
    const bus = new RabbitMqBus({ url, namespace, instanceId: 'wire' });
    await bus.connect();
    const connection = await amqplib.connect(url);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, `${namespace}.events`, '#');
      const received: { headers: Record<string, unknown>; body: string; contentType: unknown }[] = [];
      await channel.consume(queue, (msg) => {
        if (msg) received.push({ headers: msg.properties.headers ?? {}, body: msg.content.toString('utf8'), contentType: msg.properties.contentType });
      }, { noAck: true });
      const samples = wireSamples();
      await bus.publish(samples);
      await waitFor('the samples on the wire', () => received.length >= samples.length || null);
      assertAllValid(wireValidator(), received, samples, 'cloudEvents:id');
      assert.ok(received.every((m) => m.contentType === 'application/json'), 'datacontenttype is the content-type property');
    } finally {
      await connection.close();
      await bus.close();
    }
  });
});
