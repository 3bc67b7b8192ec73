import net from 'node:net';
import tls from 'node:tls';
import kafkajs from 'kafkajs';
import type { ISocketFactory, Kafka, LogEntry } from 'kafkajs';
import type { BusLogger } from './types.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

const CLOSED = 'kafka client closed';

/** Connections, metadata and admin requests. */
const CLIENT_RETRY = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 };

export interface ClientSettings {
  brokers: string[];
  clientId: string;
  logger?: BusLogger | undefined;
}

/**
 * Every socket a kafkajs client opens, so that closing can end the ones kafkajs does not:
 * - after a broker restart a consumer group keeps its old coordinator object, which is no longer
 *   in the client's broker pool; it reconnects it for heartbeats and never closes it;
 * - `disconnect()` waits for requests in flight, and a JoinGroup waiting for a departed member
 *   can take a whole session timeout.
 * Once `destroyAll(true)` has run, new sockets are refused, so nothing kafkajs still retries in
 * the background can reconnect (and keep the process alive).
 */
export class SocketTracker {
  private readonly sockets = new Set<net.Socket>();
  private refusing = false;

  readonly factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    if (this.refusing) {
      socket.destroy(new Error(CLOSED));
      return socket;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  };

  /** Ends every socket; with `refuseNew`, every later one too. Returns how many kafkajs had lost. */
  destroyAll(refuseNew: boolean): number {
    if (refuseNew) this.refusing = true;
    let open = 0;
    for (const socket of this.sockets) {
      if (socket.writableEnded) {
        socket.destroy(); // kafkajs disconnected it already; the broker has not closed its side yet
      } else {
        // Lost by kafkajs. With an error, so that kafkajs learns of it ('error' event), fails the
        // requests on it and clears the connection's timers (a plain destroy only emits 'close',
        // which kafkajs ignores, and its timers would then run forever).
        open++;
        socket.destroy(new Error(CLOSED));
      }
    }
    this.sockets.clear();
    return open;
    return open;
  }
}

/**
 * kafkajs' own log lines, at WARN and above, to the bus logger as warnings (nothing without a
 * logger): kafkajs logs at ERROR what it then recovers from (a broker restart, a moved
 * coordinator); what the adapter cannot recover from, it reports itself.
 */
function logCreator(logger: BusLogger | undefined) {
  return () => ({ namespace, level, log }: LogEntry) => {
    if (!logger) return;
    const { message, timestamp: _timestamp, ...extra } = log;
    // Expected and handled: retries are bounded on purpose; rebalances are routine.
    if (/Limiting retries for the idempotent producer|The group is rebalancing|Response without match|kafka client closed/.test(message)) return;
    logger.warn({ kafkajs: namespace, level: level === logLevel.ERROR ? 'error' : 'warn', ...extra }, `kafkajs: ${message}`);
  };
}

export function createClient(settings: ClientSettings, sockets: SocketTracker): Kafka {
  return new KafkaClient({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: CLIENT_RETRY,
    logLevel: logLevel.WARN,
    logCreator: logCreator(settings.logger),
    socketFactory: sockets.factory,
  });
}
