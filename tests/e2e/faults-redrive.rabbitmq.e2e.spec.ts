import { redriveStory } from './faults-redrive.js';

redriveStory('RabbitMQ with Postgres', process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
