import { revocationScenario } from './revocation-scenario.js';

revocationScenario('RabbitMQ with Postgres', async () => ({
  busUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  database: 'postgres',
}));
