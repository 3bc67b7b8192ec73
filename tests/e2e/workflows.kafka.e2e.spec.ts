import { workflowSuite } from './workflows/suite.js';

// CI: the seeds' workflows with every service its own process, on Postgres + Kafka.
workflowSuite('Postgres + Kafka', async () => ({ busUrl: process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092', database: 'postgres' }), 'a process per service');
