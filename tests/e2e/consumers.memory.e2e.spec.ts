import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SERVICES, typesConsumedBy, type ServiceName } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import type { Subscription, SubscriptionOptions } from '@roster/platform/bus/types';
import { startSystem, type System } from './support/system.js';

/** The in-memory bus, remembering which group subscribed to which event types. */
class RecordingBus extends MemoryBus {
  readonly subscribed = new Map<string, Set<string>>();
  override async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    const types = this.subscribed.get(options.group) ?? new Set<string>();
    for (const t of options.types) types.add(t);
    this.subscribed.set(options.group, types);
    return super.subscribe(options);
  }
}

// Issue 19: what each service subscribes to is what the catalogue says it consumes (its `consumers`),
// no more and no less: the AsyncAPI document and the operation status are built from the catalogue.
describe('each service consumes exactly what the catalogue says', () => {
  const bus = new RecordingBus();
  let system: System;
  beforeAll(async () => {
    system = await startSystem({ busUrl: 'memory:', sharedBus: bus, database: 'pglite' });
  });
  afterAll(() => system?.stop());

  it.each([...SERVICES])('%s', (service: ServiceName) => {
    // The service's own group and its revocation feed (`<service>-revocations`, run by the platform).
    const subscribed = new Set([...bus.subscribed].filter(([group]) => group === service || group.startsWith(`${service}-`)).flatMap(([, types]) => [...types]));
    assert.deepEqual([...subscribed].sort(), [...typesConsumedBy(service)].sort());
  });
});
