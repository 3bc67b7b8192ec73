import { deactivationSlice } from './deactivation-slice.js';

deactivationSlice('RabbitMQ with Postgres', async () => ({
  busUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  database: 'postgres',
}));
