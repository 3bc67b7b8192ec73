import { redriveStory } from './faults-redrive.js';

redriveStory('Kafka with Postgres', process.env.TEST_KAFKA_URL ?? 'kafka://127.0.0.1:9092');
