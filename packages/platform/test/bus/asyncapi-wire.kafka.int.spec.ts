import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import { KafkaBus } from '../../src/bus/kafka.js';
import { deleteKafkaNamespaces } from '../support/brokers.js';
import { uniqueName } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { assertAllValid, wireSamples, wireValidator } from './asyncapi-wire.js';

const url = process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092';
const brokers = url.replace(/^kafka:\/\//, '').split(',').filter(Boolean);
const namespace = uniqueName('wire');

afterAll(async () => {
  await deleteKafkaNamespaces(brokers, [namespace]);
});

// Issue 16 item 10: what a Kafka subscriber of ours receives is what asyncapi.yaml says.
describe('AsyncAPI describes the wire: Kafka', () => {
  it('every record, read with plain kafkajs from the family topics, validates against the document (header bytes as UTF-8)', async () => {
    const bus = new KafkaBus({ brokers, namespace, instanceId: 'wire' });
    await bus.connect();
    const kafka = new kafkajs.Kafka({ clientId: 'wire-subscriber', brokers, logLevel: kafkajs.logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${namespace}.subscriber-${randomUUID().slice(0, 6)}` });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [`${namespace}.user`, `${namespace}.login`, `${namespace}.cascade`], fromBeginning: true });
      const received: { headers: Record<string, unknown>; body: string }[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v]));
          received.push({ headers, body: message.value?.toString('utf8') ?? '' });
        },
      });
      const samples = wireSamples();
      await bus.publish(samples);
      await waitFor('the samples on the wire', () => received.length >= samples.length || null, 60_000);
      assertAllValid(wireValidator(), received, samples, 'ce_id');
    } finally {
      await consumer.disconnect();
      await bus.close();
    }
  }, 120_000);
});
