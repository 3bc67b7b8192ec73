import type { Bus } from '../../src/bus/types.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { busContract } from './bus.contract.js';

// The embedded default runs one bus per process that every service shares, so every "instance"
// here is a handle on the same bus; closing a handle leaves the bus to the others.
const shared = new MemoryBus();
const handle = (): Bus => ({
  transport: 'memory',
  connect: () => shared.connect(),
  publish: (events) => shared.publish(events),
  publishRaw: (type, subject, message) => shared.publishRaw(type, subject, message),
  subscribe: (options) => shared.subscribe(options),
  consumeDeadLetters: (group, handler) => shared.consumeDeadLetters(group, handler),
  deadLetterDepth: (group) => shared.deadLetterDepth(group),
  isHealthy: () => shared.isHealthy(),
  close: async () => undefined,
});

busContract('in-memory', { makeBus: async () => handle() });
