// The servers that tests and benchmarks need, and how to tell whether one answers.
import net from 'node:net';

export const SERVERS = {
  postgres: { name: 'PostgreSQL', url: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' },
  rabbitmq: { name: 'RabbitMQ', url: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', start: 'rabbitmq-server -detached' },
  kafka: { name: 'Kafka', url: process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092', start: 'npm run kafka:start' },
};

/** Whether the first host:port of `url` accepts a TCP connection within 2 s. */
export const reachable = (url) =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url.split(',')[0]);
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000);
    socket.on('connect', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => (socket.destroy(), resolve(false)));
  });
