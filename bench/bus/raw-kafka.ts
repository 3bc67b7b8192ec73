import type { EventEnvelope } from '@roster/contracts';
import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { BusPath } from './adapters.js';
import { config } from './config.js';

/**
 * What a careful team would write with kafkajs alone, giving the same guarantees as the adapter:
 * a topic with the same partition count (3); an idempotent producer with one request in flight
 * (per-key order survives retries) sending each batch with `acks: -1`, keyed by subject, with the
 * same `ce_` headers; a consumer group with the adapter's timings (session 10 s, heartbeat 0.5 s,
 * max wait 100 ms) and `partitionsConsumedConcurrently: 3`, `eachMessage` parsing the body and
 * awaiting an async handler; offsets auto-committed. No validation, no tracing, no retries.
 */
export class RawKafkaPath implements BusPath {
  readonly name = 'kafka raw kafkajs';
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private consumer: Consumer | null = null;
  readonly topic: string;

  constructor(private readonly namespace: string) {
    this.topic = `${namespace}.raw`;
    this.kafka = new kafkajs.Kafka({ clientId: `${namespace}.raw`, brokers: config.kafkaBrokers.split(','), logLevel: kafkajs.logLevel.WARN });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
  }

  async setup(arrive: (id: string) => void): Promise<void> {
    await this.admin.connect();
    await this.admin.createTopics({ waitForLeaders: true, topics: [{ topic: this.topic, numPartitions: 3 }] });
    await this.producer.connect();
    const consumer = this.kafka.consumer({
      groupId: `${this.namespace}.raw`,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    // Ready once joined with partitions and one fetch done (as the adapter's subscribe()).
    const ready = new Promise<void>((resolve) => {
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => void (joined = true));
      consumer.on(consumer.events.FETCH, () => joined && resolve());
    });
    const handler = async (id: string, _data: unknown) => arrive(id);
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ message }) => {
        const id = message.headers?.['ce_id']?.toString() ?? '';
        await handler(id, JSON.parse(message.value?.toString('utf8') ?? 'null'));
      },
    });
    await ready;
  }

  async publish(batch: readonly EventEnvelope[]): Promise<void> {
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [{
        topic: this.topic,
        messages: batch.map((e) => ({ key: e.subject, value: JSON.stringify(e.data), headers: kafkaHeaders(e) })),
      }],
    });
  }

  async teardown(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}

/** The CloudEvents Kafka headers, as Roster writes them (`ce_<attribute>`, `content-type`). */
function kafkaHeaders(e: EventEnvelope): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': e.datacontenttype,
    ce_specversion: e.specversion,
    ce_id: e.id,
    ce_source: e.source,
    ce_type: e.type,
    ce_subject: e.subject,
    ce_time: e.time,
    ce_dataversion: String(e.dataversion),
    ce_tenantid: e.tenantid,
    ce_correlationid: e.correlationid,
  };
  if (e.causationid !== undefined) h['ce_causationid'] = e.causationid;
  if (e.subjectversion !== undefined) h['ce_subjectversion'] = String(e.subjectversion);
  if (e.traceparent !== undefined) h['ce_traceparent'] = e.traceparent;
  return h;
}
