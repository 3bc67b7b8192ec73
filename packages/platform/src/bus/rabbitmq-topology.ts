import type { Channel } from 'amqplib';
import { errorReason } from './dispatch.js';
import { backoffDelay, type RetryPolicy } from './types.js';

/**
 * The RabbitMQ topology of one namespace `ns` (`roster` in production). The session that keeps
 * it alive across reconnections is in rabbitmq-session.ts.
 *
 *   exchange `${ns}.events`         topic, durable; routing key = event type
 *   queue    `${ns}.${group}`       durable, one per competing group, bound to each subscribed type
 *   queue    `${ns}.${group}.retry.${n}`
 *                                   durable; holds a message after its n-th failed attempt for
 *                                   `x-message-ttl` = backoffDelay(policy, n), then dead-letters it
 *                                   back to `${ns}.${group}` through the default exchange
 *   exchange `${ns}.dead-letter`    direct, durable; routing key = group
 *   queue    `${ns}.${group}.dead`  durable, bound to `${ns}.dead-letter` with the group as key
 *   broadcast subscriptions: a server-named, exclusive, auto-delete queue per instance.
 */
export class Topology {
  readonly events: string;
  readonly deadLetter: string;

  constructor(readonly namespace: string) {
    this.events = `${namespace}.events`;
    this.deadLetter = `${namespace}.dead-letter`;
  }

  groupQueue = (group: string): string => `${this.namespace}.${group}`;
  retryQueue = (group: string, failedAttempt: number): string => `${this.namespace}.${group}.retry.${failedAttempt}`;
  deadQueue = (group: string): string => `${this.namespace}.${group}.dead`;

  async declareExchanges(ch: Channel): Promise<void> {
    await ch.assertExchange(this.events, 'topic', { durable: true });
    await ch.assertExchange(this.deadLetter, 'direct', { durable: true });
  }

  async declareDead(ch: Channel, group: string): Promise<string> {
    const queue = this.deadQueue(group);
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, this.deadLetter, group);
    return queue;
  }

  /** The group queue, its bindings, its retry queues and its dead queue. */
  async declareGroup(ch: Channel, group: string, types: Iterable<string>, retry: RetryPolicy): Promise<string> {
    const queue = this.groupQueue(group);
    try {
      await ch.assertQueue(queue, { durable: true });
      await this.bind(ch, queue, types);
      for (let n = 1; n < retry.maxAttempts; n++) {
        await ch.assertQueue(this.retryQueue(group, n), {
          durable: true,
          arguments: { 'x-message-ttl': backoffDelay(retry, n), 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
        });
      }
    } catch (error) {
      if ((error as { code?: unknown }).code !== 406) throw error;
      throw new Error(`RabbitMQ refused the queues of group "${group}" (${errorReason(error)}). They exist with other ` +
        'arguments, usually because the retry policy changed: delete its retry queues once they are empty.');
    }
    await this.declareDead(ch, group);
    return queue;
  }

  /** A per-connection queue for a broadcast subscription (gone with the connection). */
  async declareBroadcast(ch: Channel, group: string, types: Iterable<string>): Promise<string> {
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await this.bind(ch, queue, types);
    await this.declareDead(ch, group);
    return queue;
  }

  async bind(ch: Channel, queue: string, types: Iterable<string>): Promise<void> {
    for (const type of types) await ch.bindQueue(queue, this.events, type);
  }
}

/** One connection and its confirm channel; `dead` once anything on it failed (never revived). */
