import { faultRun } from './faults.js';

faultRun('Kafka with Postgres', { busUrl: process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092', transport: 'kafka' });
