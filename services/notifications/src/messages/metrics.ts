import { Counter, type Registry } from 'prom-client';

export interface MessageMetrics {
  sent: Counter<'channel' | 'provider'>;
  failed: Counter<'channel'>;
  retried: Counter<'channel'>;
  failedOver: Counter<'channel'>;
}

const byRegistry = new WeakMap<Registry, MessageMetrics>();

/** Delivery counters in the service's registry (`/metrics`), by channel. */
export function messageMetrics(registry: Registry): MessageMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    const registers = [registry];
    m = {
      sent: new Counter({ name: 'roster_notifications_sent_total', help: 'Messages accepted by a provider, by channel and provider', labelNames: ['channel', 'provider'] as const, registers }),
      failed: new Counter({ name: 'roster_notifications_failed_total', help: 'Messages that failed permanently, by channel', labelNames: ['channel'] as const, registers }),
      retried: new Counter({ name: 'roster_notifications_retried_total', help: 'Sends that failed transiently and were scheduled again, by channel', labelNames: ['channel'] as const, registers }),
      failedOver: new Counter({ name: 'roster_notifications_failovers_total', help: 'Provider failures after which the next provider of the channel was tried (B6), by channel', labelNames: ['channel'] as const, registers }),
    };
    byRegistry.set(registry, m);
  }
  return m;
}
