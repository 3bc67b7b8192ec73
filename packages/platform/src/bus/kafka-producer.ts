import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import { errorReason } from './dispatch.js';
import type { BusLogger } from './types.js';
import { beforeDeadline as raceDeadline } from '../deadline.js';

const { Partitioners } = kafkajs;

/**
 * kafkajs' own producer retries are kept short: it gives up at once on a refused connection
 * anyway (it "bails" to refresh metadata), so `send()` retries around it until its deadline.
 */
const PRODUCER_RETRY = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 };

/** Errors that another attempt cannot fix: `send()` fails at once. */
const PERMANENT = new Set([
  'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TOPIC_EXCEPTION', 'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION', 'UNSUPPORTED_FOR_MESSAGE_FORMAT', 'SASL_AUTHENTICATION_FAILED',
]);
/** The idempotent producer's state no longer matches the broker's: start a new producer. */
const PRODUCER_STATE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

const rootCause = (error: unknown): { name?: string; type?: string } => {
  let e = error as { cause?: unknown; originalError?: unknown; name?: string; type?: string } | undefined;
  for (let i = 0; i < 10 && e && (e.cause || e.originalError); i++) e = (e.cause ?? e.originalError) as typeof e;
  return e ?? {};
};

export type TopicMessages = { topic: string; messages: Message[] }[];

/** The platform's `beforeDeadline`, with the Kafka bus's message (kafkajs cannot cancel a request). */
export const beforeDeadline = <T>(deadline: number, work: Promise<T>): Promise<T> =>
  raceDeadline(deadline, work, 'kafka: no answer from the broker in time');

export interface KafkaSenderOptions {
  kafka: Kafka;
  logger?: BusLogger | undefined;
  /** How long `send()` keeps trying through an outage. */
  timeoutMs: number;
  /** Runs before each attempt: the bus connects and creates missing topics. */
  prepare(topics: string[]): Promise<void>;
  onHealth(ok: boolean): void;
}

/**
 * The bus's producer. Idempotent (the broker drops a batch resent after a lost acknowledgement)
 * with one request in flight per broker, so that retries cannot reorder a subject's events;
 * every send waits for all in-sync replicas (`acks: -1`).
 */
export class KafkaSender {
  private producer: Producer;
  private resetting: Promise<void> | null = null;
  private inFlight = 0;

  constructor(private readonly options: KafkaSenderOptions) {
    this.producer = this.create();
  }

  get sending(): number {
    return this.inFlight;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /**
   * Resolves once the broker has acknowledged every record. Through an outage it keeps trying
   * (backoff up to 2 s) until `timeoutMs`, then fails: never a silent drop. kafkajs' own retries
   * reuse the sequence numbers (the broker drops duplicates); a batch resent by this loop after a
   * lost acknowledgement gets new ones and may be stored twice (at-least-once; consumers are
   * idempotent, rule 2).
   */
  async send(topicMessages: TopicMessages): Promise<void> {
    const { timeoutMs, logger, prepare, onHealth } = this.options;
    this.inFlight++;
    const deadline = Date.now() + timeoutMs;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await beforeDeadline(deadline, (async () => {
            await prepare(topicMessages.map((t) => t.topic));
            if (attempt > 1) await this.producer.connect(); // no-op when connected; keeps the producer id
            await this.producer.sendBatch({ topicMessages, acks: -1 });
          })());
          onHealth(true);
          return;
        } catch (error) {
          onHealth(false);
          const root = rootCause(error);
          const permanent = (root.type !== undefined && PERMANENT.has(root.type))
            || !String((error as Error | undefined)?.name ?? '').startsWith('KafkaJS');
          if (permanent || Date.now() >= deadline) throw error;
          if (root.type !== undefined && PRODUCER_STATE.has(root.type)) await this.reset();
          if (attempt === 1 || attempt % 10 === 0) {
            logger?.warn({ err: errorReason(error), attempt }, 'kafka: publish not acknowledged yet; retrying');
          }
          await sleep(Math.max(0, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5), deadline - Date.now())));
        }
      }
    } finally {
      this.inFlight--;
    }
  }

  private create(): Producer {
    return this.options.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
    });
  }

  private reset(): Promise<void> {
    this.resetting ??= (async () => {
      const old = this.producer;
      this.producer = this.create();
      this.options.logger?.warn({}, 'kafka: the broker lost the producer state; starting a new producer');
      await old.disconnect().catch(() => undefined);
      await this.producer.connect().catch(() => undefined); // the next attempt connects again
    })().finally(() => {
      this.resetting = null;
    });
    return this.resetting;
  }
}
