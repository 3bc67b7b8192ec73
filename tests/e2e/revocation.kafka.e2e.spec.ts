import { revocationScenario } from './revocation-scenario.js';

revocationScenario('Kafka with Postgres', async () => ({
  busUrl: process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092',
  database: 'postgres',
}), 45_000);
