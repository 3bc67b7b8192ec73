import { workflowSuite } from './workflows/suite.js';

// CI: the seeds' workflows with every service its own process, on Postgres + RabbitMQ.
workflowSuite('Postgres + RabbitMQ', async () => ({ busUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', database: 'postgres' }), 'a process per service');
