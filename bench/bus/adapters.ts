import type { EventEnvelope } from '@roster/contracts';
import { createBus } from '@roster/platform/bus/index';
import { DEFAULT_RETRY, type Bus, type Subscription } from '@roster/platform/bus/types';
import amqplib from 'amqplib';
import kafkajs from 'kafkajs';
import { benchLogger, config } from './config.js';

/**
 * One way of moving events from a producer to one consuming group: set up once, then measured
 * several times. `arrive(id)` must be called at the start of the consumer's handler.
 */
export interface BusPath {
  readonly name: string;
  /** The runs it takes part in (default both). */
  readonly modes?: readonly ('saturated' | 'paced')[];
  setup(arrive: (id: string) => void): Promise<void>;
  publish(batch: readonly EventEnvelope[]): Promise<void>;
  teardown(): Promise<void>;
}

export const GROUP = 'bench';
export const TYPE = 'user.deactivated';

/** A Roster bus adapter (what services use), from `createBus(url)`, one competing group. */
export class AdapterPath implements BusPath {
  private bus: Bus | null = null;
  private subscription: Subscription | null = null;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly namespace: string,
    private readonly concurrency?: number,
  ) {}

  async setup(arrive: (id: string) => void): Promise<void> {
    this.bus = await createBus(this.url, { namespace: this.namespace, logger: benchLogger, instanceId: 'bench' });
    await this.bus.connect();
    this.subscription = await this.bus.subscribe({
      group: GROUP,
      types: [TYPE],
      handler: async (event) => arrive(event.id),
      ...(this.concurrency !== undefined ? { concurrency: this.concurrency } : {}),
    });
  }

  publish(batch: readonly EventEnvelope[]): Promise<void> {
    return this.bus!.publish(batch);
  }

  async teardown(): Promise<void> {
    await this.subscription?.close().catch(() => undefined);
    await this.bus?.close().catch(() => undefined);
  }
}

/** Deletes what the RabbitMQ adapter declared in `namespace` (see rabbitmq-topology.ts). */
export async function cleanRabbitMq(namespace: string, extraQueues: string[] = [], extraExchanges: string[] = []): Promise<void> {
  const queues = [
    `${namespace}.${GROUP}`,
    `${namespace}.${GROUP}.dead`,
    ...Array.from({ length: DEFAULT_RETRY.maxAttempts - 1 }, (_, i) => `${namespace}.${GROUP}.retry.${i + 1}`),
    ...extraQueues,
  ];
  const exchanges = [`${namespace}.events`, `${namespace}.dead-letter`, ...extraExchanges];
  const conn = await amqplib.connect(config.amqpUrl);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    for (const x of exchanges) await ch.deleteExchange(x);
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** Deletes every topic and consumer group of `namespace` on the Kafka broker. */
export async function cleanKafka(namespace: string): Promise<void> {
  const kafka = new kafkajs.Kafka({ clientId: `${namespace}.cleanup`, brokers: config.kafkaBrokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${namespace}.`));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
