import { MemoryBus } from '@roster/platform/bus/index';
import { workflowSuite } from './workflows/suite.js';

// npm test's default footprint for the workflows: the in-memory bus, each service on Postgres.
workflowSuite('the in-memory bus', async () => ({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'postgres' }));
