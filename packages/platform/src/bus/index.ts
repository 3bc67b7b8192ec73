import { MemoryBus } from './memory.js';
import type { Bus, BusOptions } from './types.js';

export * from './types.js';
export { MemoryBus } from './memory.js';
export { encode, decode } from './codec.js';

/**
 * Picks the adapter from `BUS_URL`: `memory:` (embedded default), `amqp://` / `amqps://`
 * (RabbitMQ) or `kafka://host:port[,host:port]` (Kafka). Adapters load lazily so that the
 * embedded default never loads a broker client.
 */
export async function createBus(url: string, options: BusOptions = {}): Promise<Bus> {
  const scheme = url.split(':')[0];
  switch (scheme) {
    case 'memory':
      return new MemoryBus(options.observer);
    case 'amqp':
    case 'amqps': {
      const { RabbitMqBus } = await import('./rabbitmq.js');
      return new RabbitMqBus({ ...options, url });
    }
    case 'kafka': {
      const { KafkaBus } = await import('./kafka.js');
      const brokers = url.replace(/^kafka:\/\//, '').split(',').filter(Boolean);
      return new KafkaBus({ ...options, brokers });
    }
    default:
      throw new Error(`BUS_URL "${url}" is not supported: use memory:, amqp://host:port or kafka://host:port`);
  }
}
