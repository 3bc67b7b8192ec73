import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from '@jest/globals';
import { createEvent } from '@roster/contracts';
import type { Bus, Subscription } from '../../src/bus/types.js';
import { createMetrics, type ServiceMetrics } from '../../src/metrics.js';
import { deactivation, uniqueName } from '../support/events.js';
import { sample } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';

export interface DeadLetterDepthTarget {
  /** A new, connected bus; every bus of one suite run shares `namespace`. */
  makeBus(namespace: string): Promise<Bus>;
  timeoutMs?: number;
}

const TYPE = 'user.deactivated';
/** Payroll's type: a redrive of billing's dead letters (republished under their type) never reaches payroll. */
const PAYROLL_TYPE = 'user.reactivated';

/**
 * A scrape while the broker cannot be reached answers at once, with no series (unknown is not 0).
 * `makeDownBus` gives a bus pointed at a port where nothing listens.
 */
export async function scrapeWhileBrokerDown(makeDownBus: () => Bus): Promise<void> {
  const bus = makeDownBus();
  void bus.connect().catch(() => undefined); // it keeps retrying in the background
  try {
    await assert.rejects(bus.deadLetterDepth('directory'), /not connected/);
    const metrics = createMetrics('directory');
    metrics.watchDeadLetterDepth(['directory'], (group) => bus.deadLetterDepth(group));
    const started = Date.now();
    assert.equal(await depthShown(metrics, 'directory'), undefined, 'unknown is no sample, not 0');
    assert.ok(Date.now() - started < 1_000, `the scrape took ${Date.now() - started} ms`);
  } finally {
    await bus.close();
  }
}

/** What `/metrics` says about `group`'s dead-letter depth now. */
export async function depthShown(metrics: ServiceMetrics, group: string): Promise<number | undefined> {
  return sample(await metrics.registry.metrics(), 'roster_dead_letter_depth', { group });
}

/**
 * Issue 7 / rule 9: `/metrics` shows how many dead letters each consumer group has waiting, and a
 * redrive (as `roster dead-letters redrive` does it: take them through `consumeDeadLetters`,
 * republish each under its type) empties it. Two groups, so that one group's dead letters never
 * show in the other's depth (Kafka: they share one topic).
 */
export function deadLetterDepthSuite(name: string, target: DeadLetterDepthTarget): void {
  describe(`dead-letter depth in /metrics: ${name}`, () => {
    const namespace = uniqueName('depth');
    const timeout = target.timeoutMs ?? 15_000;
    const buses: Bus[] = [];
    const subscriptions: Subscription[] = [];
    afterAll(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.close()));
      await Promise.allSettled(buses.map((b) => b.close()));
    });
    const newBus = async () => {
      const bus = await target.makeBus(namespace);
      buses.push(bus);
      return bus;
    };

    it('shows a poisoned group\'s dead letters, only that group\'s, and 0 once they are redriven and handled', async () => {
      const bus = await newBus();
      const [billing, payroll] = [uniqueName('billing'), uniqueName('payroll')];
      // A service's scrape, the cache off so that each scrape asks the bus.
      const metrics = createMetrics('scheduling');
      metrics.watchDeadLetterDepth([billing, payroll], (group) => bus.deadLetterDepth(group), { cacheMs: 0 });
      assert.equal(await depthShown(metrics, billing), 0, 'nothing dead-lettered yet');

      // The cause: billing's handler fails for every event until it is fixed; payroll's always fails.
      let billingBroken = true;
      const handledByBilling: string[] = [];
      const retry = { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 100 };
      subscriptions.push(await bus.subscribe({
        group: billing, types: [TYPE], retry,
        handler: async (e) => {
          if (billingBroken) throw new Error('billing ledger is locked');
          handledByBilling.push(e.id);
        },
      }));
      subscriptions.push(await bus.subscribe({
        group: payroll, types: [PAYROLL_TYPE], retry, handler: async () => Promise.reject(new Error('payroll is down')),
      }));
      const poison = deactivation(randomUUID());
      const second = deactivation(randomUUID());
      await bus.publish([poison]);
      await waitFor('billing depth 1', async () => (await depthShown(metrics, billing)) === 1, timeout, 100);
      assert.equal(await depthShown(metrics, payroll), 0, 'billing\'s dead letter is not payroll\'s');
      const payrollPoison = createEvent('directory', {
        type: PAYROLL_TYPE, subject: poison.subject, tenantId: poison.tenantid, correlationId: randomUUID(), data: poison.data,
      });
      await bus.publish([second, payrollPoison]);
      await waitFor('billing depth 2', async () => (await depthShown(metrics, billing)) === 2, timeout, 100);
      await waitFor('payroll depth 1', async () => (await depthShown(metrics, payroll)) === 1, timeout, 100);
      const [a, b] = await Promise.all([bus.deadLetterDepth(billing), bus.deadLetterDepth(payroll)]);
      assert.deepEqual([a, b], [2, 1], 'the bus says what /metrics shows');

      // The cause is fixed; billing's dead letters are redriven.
      billingBroken = false;
      const redriven: string[] = [];
      const redrive = await bus.consumeDeadLetters(billing, async (d) => {
        assert.ok(d.eventType, 'a dead letter of a valid event keeps its type');
        await bus.publishRaw(d.eventType, d.message.headers['ce_subject'] ?? d.message.headers['cloudEvents:subject'] ?? '', d.message);
        redriven.push(d.eventId ?? '');
      });
      subscriptions.push(redrive);
      try {
        await waitFor('both redriven', () => redriven.length >= 2, timeout, 50);
        await waitFor('billing to handle them', () => handledByBilling.length >= 2, timeout, 50);
        assert.deepEqual([...handledByBilling].sort(), [poison.id, second.id].sort());
        await waitFor('billing depth 0', async () => (await depthShown(metrics, billing)) === 0, timeout, 100);
      } finally {
        await redrive.close();
      }
      assert.equal(await depthShown(metrics, payroll), 1, 'payroll\'s dead letter is still waiting');
      assert.deepEqual(redriven.sort(), [poison.id, second.id].sort(), 'the redrive took billing\'s dead letters only');
    });

    it('counts the dead letters of a broadcast subscription (a revocation feed) under its group', async () => {
      const bus = await newBus();
      const feed = uniqueName('scheduling-revocations');
      const metrics = createMetrics('scheduling');
      metrics.watchDeadLetterDepth([feed], (group) => bus.deadLetterDepth(group), { cacheMs: 0 });
      subscriptions.push(await bus.subscribe({ group: feed, types: [TYPE], delivery: 'broadcast', handler: async () => undefined }));
      // Malformed: dead-lettered at once, whatever the handler.
      await bus.publishRaw(TYPE, randomUUID(), { headers: { 'content-type': 'application/json' }, body: 'not json at all' });
      await waitFor('the feed\'s depth 1', async () => (await depthShown(metrics, feed)) === 1, timeout, 100);
    });
  });
}
