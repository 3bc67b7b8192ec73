import { faultRun } from './faults.js';

faultRun('RabbitMQ with Postgres', { busUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', transport: 'rabbitmq' });
