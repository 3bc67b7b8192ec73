import { MemoryBus } from '@roster/platform/bus/index';
import { revocationScenario } from './revocation-scenario.js';

// The embedded footprint: one in-memory bus, PGlite databases.
revocationScenario('the in-memory bus with PGlite', async () => ({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'pglite' }));
