import { MemoryBus } from '@roster/platform/bus/index';
import { deactivationSlice } from './deactivation-slice.js';

// The embedded footprint: one in-memory bus, PGlite databases.
deactivationSlice('the in-memory bus with PGlite', async () => ({ busUrl: 'memory:', sharedBus: new MemoryBus(), database: 'pglite' }));
