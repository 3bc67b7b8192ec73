import type { EventEnvelope } from '@roster/contracts';
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { BusPath } from './adapters.js';
import { config } from './config.js';

/**
 * What a careful team would write with amqplib alone, giving the same guarantees as the adapter:
 * one connection; a confirm channel publishing persistent messages to a durable topic exchange
 * (routing key = type) with the same CloudEvents headers and properties, waiting for every
 * confirm of a batch (and for `drain` under back-pressure); a durable queue consumed on its own
 * channel with the same prefetch (16, the adapter's default concurrency) and manual acks after
 * an async handler has run. No validation, no tracing, no retry/dead-letter plumbing.
 */
export class RawAmqpPath implements BusPath {
  readonly name: string;
  readonly modes?: readonly ('saturated' | 'paced')[];
  private conn: ChannelModel | null = null;
  private pub: ConfirmChannel | null = null;
  private sub: Channel | null = null;
  readonly exchange: string;
  readonly queue: string;
  private readonly noDelay: boolean;

  /**
   * `noDelay`: TCP_NODELAY on the socket (amqplib's default, which the adapter keeps, leaves
   * Nagle's algorithm on); a reference for what latency the adapter could have, paced runs only.
   */
  constructor(namespace: string, private readonly prefetch = 16, options: { noDelay?: boolean } = {}) {
    this.noDelay = options.noDelay ?? false;
    const suffix = this.noDelay ? 'raw-nodelay' : 'raw';
    this.name = this.noDelay ? 'rabbitmq raw amqplib, TCP_NODELAY' : 'rabbitmq raw amqplib';
    if (this.noDelay) this.modes = ['paced'];
    this.exchange = `${namespace}.${suffix}-events`;
    this.queue = `${namespace}.${suffix}`;
  }

  async setup(arrive: (id: string) => void): Promise<void> {
    this.conn = await amqplib.connect(config.amqpUrl, { noDelay: this.noDelay });
    this.pub = await this.conn.createConfirmChannel();
    await this.pub.assertExchange(this.exchange, 'topic', { durable: true });
    await this.pub.assertQueue(this.queue, { durable: true });
    await this.pub.bindQueue(this.queue, this.exchange, 'user.deactivated');
    const sub = await this.conn.createChannel();
    this.sub = sub;
    await sub.prefetch(this.prefetch);
    const handler = async (id: string, _data: unknown) => arrive(id);
    await sub.consume(this.queue, (msg: ConsumeMessage | null) => {
      if (!msg) return;
      void (async () => {
        const raw = msg.properties.headers?.['cloudEvents:id'] as unknown;
        const id = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
        await handler(id, JSON.parse(msg.content.toString('utf8')));
        sub.ack(msg);
      })();
    }, { noAck: false });
  }

  async publish(batch: readonly EventEnvelope[]): Promise<void> {
    const pub = this.pub!;
    const confirms: Promise<void>[] = [];
    for (const e of batch) {
      let writable = true;
      confirms.push(new Promise<void>((resolve, reject) => {
        writable = pub.publish(this.exchange, e.type, Buffer.from(JSON.stringify(e.data), 'utf8'), {
          persistent: true,
          contentType: e.datacontenttype,
          messageId: e.id,
          timestamp: Math.floor(Date.parse(e.time) / 1000),
          headers: amqpHeaders(e),
        }, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
      }));
      if (!writable) await new Promise<void>((resolve) => pub.once('drain', () => resolve()));
    }
    await Promise.all(confirms);
  }

  async teardown(): Promise<void> {
    try {
      await this.sub?.close();
      await this.pub?.deleteQueue(this.queue);
      await this.pub?.deleteExchange(this.exchange);
      await this.pub?.close();
    } finally {
      await this.conn?.close().catch(() => undefined);
    }
  }
}

/** The CloudEvents AMQP headers, as Roster writes them (`cloudEvents:<attribute>`, strings). */
function amqpHeaders(e: EventEnvelope): Record<string, string> {
  const h: Record<string, string> = {
    'cloudEvents:specversion': e.specversion,
    'cloudEvents:id': e.id,
    'cloudEvents:source': e.source,
    'cloudEvents:type': e.type,
    'cloudEvents:subject': e.subject,
    'cloudEvents:time': e.time,
    'cloudEvents:dataversion': String(e.dataversion),
    'cloudEvents:tenantid': e.tenantid,
    'cloudEvents:correlationid': e.correlationid,
  };
  if (e.causationid !== undefined) h['cloudEvents:causationid'] = e.causationid;
  if (e.subjectversion !== undefined) h['cloudEvents:subjectversion'] = String(e.subjectversion);
  if (e.traceparent !== undefined) h['cloudEvents:traceparent'] = e.traceparent;
  return h;
}
