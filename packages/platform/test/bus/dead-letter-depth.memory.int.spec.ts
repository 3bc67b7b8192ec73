import { MemoryBus } from '../../src/bus/memory.js';
import { deadLetterDepthSuite } from './dead-letter-depth.suite.js';

// The embedded default: one in-memory bus per process, shared by every service.
const shared = new MemoryBus();

deadLetterDepthSuite('in-memory', { makeBus: async () => shared });
