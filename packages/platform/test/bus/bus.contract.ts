import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Bus, DeadLetter, Subscription } from '../../src/bus/types.js';
import { deactivation, uniqueName } from '../support/events.js';
import { waitFor } from '../support/wait.js';

export interface ContractTarget {
  /** A new, connected bus; every bus of one suite run shares `namespace` and nothing else. */
  makeBus(namespace: string): Promise<Bus>;
  /** Stops and starts the broker; absent for the in-memory bus, which has none. */
  restartBroker?: () => Promise<void>;
  /** How long a subscription may take to start receiving (Kafka's group join). */
  settleMs?: number;
  timeoutMs?: number;
}

const TYPE = 'user.deactivated';
const fastRetry = { initialDelayMs: 50, maxDelayMs: 400 };

/**
 * The bus contract (rule 6): the same tests, unchanged, against every adapter.
 * Each test uses its own groups and subjects so that tests never see each other's events.
 */
export function busContract(name: string, target: ContractTarget): void {
  describe(`bus contract: ${name}`, () => {
    const namespace = uniqueName('contract');
    const timeout = target.timeoutMs ?? 15_000;
    const buses: Bus[] = [];
    const subscriptions: Subscription[] = [];
    let publisher: Bus;

    const newBus = async () => {
      const bus = await target.makeBus(namespace);
      buses.push(bus);
      return bus;
    };
    const track = (s: Subscription) => (subscriptions.push(s), s);
    const settle = () => new Promise((r) => setTimeout(r, target.settleMs ?? 0));

    beforeAll(async () => {
      publisher = await newBus();
    });
    afterAll(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.close()));
      await Promise.allSettled(buses.map((b) => b.close()));
    });

    it('delivers every event to each subscribing group (fan-out)', async () => {
      const consumer = await newBus();
      const seen = { a: [] as string[], b: [] as string[] };
      for (const g of ['a', 'b'] as const) {
        track(await consumer.subscribe({
          group: uniqueName(`fanout-${g}`), types: [TYPE], handler: async (e) => void seen[g].push(e.id),
        }));
      }
      await settle();
      const events = Array.from({ length: 10 }, () => deactivation(randomUUID()));
      await publisher.publish(events);
      const ids = events.map((e) => e.id).sort();
      await waitFor('both groups to get all 10', () => seen.a.length >= 10 && seen.b.length >= 10, timeout);
      assert.deepEqual([...seen.a].sort(), ids);
      assert.deepEqual([...seen.b].sort(), ids);
    });

    it('shares a group\'s events between its competing instances, each event handled once', async () => {
      const group = uniqueName('competing');
      const handledBy = new Map<string, string[]>();
      for (const instance of ['one', 'two']) {
        const bus = await newBus();
        track(await bus.subscribe({
          group, types: [TYPE],
          handler: async (e) => void handledBy.set(e.id, [...(handledBy.get(e.id) ?? []), instance]),
        }));
      }
      await settle();
      const events = Array.from({ length: 40 }, () => deactivation(randomUUID()));
      await publisher.publish(events);
      await waitFor('40 events handled', () => events.every((e) => handledBy.has(e.id)), timeout);
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
      for (const e of events) assert.equal(handledBy.get(e.id)!.length, 1, `event ${e.id} handled more than once`);
      const instances = new Set([...handledBy.values()].flat());
      assert.deepEqual([...instances].sort(), ['one', 'two'], 'both instances took a share');
    });

    it('every instance of a broadcast subscription gets every event', async () => {
      const group = uniqueName('broadcast');
      const got = { one: 0, two: 0 };
      for (const instance of ['one', 'two'] as const) {
        const bus = await newBus();
        track(await bus.subscribe({ group, types: [TYPE], delivery: 'broadcast', handler: async () => void got[instance]++ }));
      }
      await settle();
      await publisher.publish(Array.from({ length: 5 }, () => deactivation(randomUUID())));
      await waitFor('both instances to get 5', () => got.one >= 5 && got.two >= 5, timeout);
    });

    it('redelivers with backoff when the handler throws, until it succeeds', async () => {
      const attempts: number[] = [];
      const consumer = await newBus();
      track(await consumer.subscribe({
        group: uniqueName('retry'), types: [TYPE], retry: { ...fastRetry, maxAttempts: 5 },
        handler: async (_e, ctx) => {
          attempts.push(Date.now());
          if (ctx.attempt < 3) throw new Error(`transient failure ${ctx.attempt}`);
        },
      }));
      await settle();
      await publisher.publish([deactivation(randomUUID())]);
      await waitFor('three attempts', () => attempts.length >= 3, timeout);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(attempts.length, 3, 'no attempt after success');
      assert.ok(attempts[1]! - attempts[0]! >= 40, `backoff before 2nd attempt (${attempts[1]! - attempts[0]!} ms)`);
      assert.ok(attempts[2]! - attempts[1]! >= 90, `backoff grows before 3rd attempt (${attempts[2]! - attempts[1]!} ms)`);
    });

    it('dead-letters an event after maxAttempts with the reason, and goes on consuming', async () => {
      const group = uniqueName('dead');
      const consumer = await newBus();
      const poison = deactivation(randomUUID());
      const healthy = deactivation(randomUUID());
      const handled: string[] = [];
      track(await consumer.subscribe({
        group, types: [TYPE], retry: { ...fastRetry, maxAttempts: 3 },
        handler: async (e) => {
          if (e.id === poison.id) throw new Error('visit table is on fire');
          handled.push(e.id);
        },
      }));
      const dead: DeadLetter[] = [];
      track(await consumer.consumeDeadLetters(group, async (d) => void dead.push(d)));
      await settle();
      await publisher.publish([poison, healthy]);
      const letter = await waitFor('the dead letter', () => dead.find((d) => d.eventId === poison.id), timeout);
      assert.equal(letter.attempts, 3);
      assert.equal(letter.eventType, TYPE);
      assert.match(letter.reason, /visit table is on fire/);
      assert.equal(letter.group, group);
      await waitFor('the healthy event', () => handled.includes(healthy.id), timeout);
    });

    it('dead-letters malformed messages at once without stopping the consumer', async () => {
      const group = uniqueName('malformed');
      const consumer = await newBus();
      let calls = 0;
      const handled: string[] = [];
      track(await consumer.subscribe({ group, types: [TYPE], handler: async (e) => void (calls++, handled.push(e.id)) }));
      const dead: DeadLetter[] = [];
      track(await consumer.consumeDeadLetters(group, async (d) => void dead.push(d)));
      await settle();
      const subject = randomUUID();
      const valid = deactivation(subject);
      const badPayload = deactivation(subject);
      const style = publisher.transport === 'rabbitmq' ? 'cloudEvents:' : 'ce_';
      const headersOf = (e: typeof valid) => Object.fromEntries(
        Object.entries({ id: e.id, type: e.type, source: e.source, subject: e.subject, time: e.time, specversion: '1.0',
          dataversion: '1', tenantid: e.tenantid, correlationid: e.correlationid }).map(([k, v]) => [style + k, String(v)]),
      );
      await publisher.publishRaw(TYPE, subject, { headers: { ...headersOf(badPayload), 'content-type': 'application/json' }, body: '{"personId": 42}' });
      await publisher.publishRaw(TYPE, subject, { headers: { 'content-type': 'application/json' }, body: 'not json at all' });
      await publisher.publish([valid]);
      await waitFor('two dead letters', () => dead.length >= 2, timeout);
      await waitFor('the valid event after them', () => handled.includes(valid.id), timeout);
      assert.equal(calls, 1, 'the handler never saw the malformed messages');
      const reasons = dead.map((d) => d.reason).join('\n');
      assert.match(reasons, /malformed: invalid user\.deactivated payload: personId/);
      assert.match(reasons, /malformed: body is not valid JSON/);
      for (const d of dead) assert.equal(d.attempts, 1, 'malformed messages are not retried');
      assert.equal(dead.find((d) => d.eventId === badPayload.id)?.message.body, '{"personId": 42}', 'the bytes are kept');
    });

    it('keeps the order of events about one subject', async () => {
      const consumer = await newBus();
      const subjects = Array.from({ length: 4 }, () => randomUUID());
      const seen = new Map<string, number[]>();
      track(await consumer.subscribe({
        group: uniqueName('order'), types: [TYPE], concurrency: 1,
        handler: async (e) => void seen.set(e.subject, [...(seen.get(e.subject) ?? []), e.subjectversion ?? -1]),
      }));
      await settle();
      const events = [];
      for (let v = 1; v <= 15; v++) for (const s of subjects) events.push(deactivation(s, v));
      for (let i = 0; i < events.length; i += 10) await publisher.publish(events.slice(i, i + 10));
      await waitFor('60 events', () => [...seen.values()].reduce((n, l) => n + l.length, 0) >= 60, timeout);
      for (const s of subjects) assert.deepEqual(seen.get(s), Array.from({ length: 15 }, (_, i) => i + 1));
    });

    // Skipped (and reported so) where the bus has no broker to restart: the in-memory bus.
    const withBroker = target.restartBroker ? it : it.skip;
    withBroker('recovers when the broker restarts: nothing published before or after is lost', async () => {
      const consumer = await newBus();
      const handled = new Set<string>();
      track(await consumer.subscribe({ group: uniqueName('restart'), types: [TYPE], handler: async (e) => void handled.add(e.id) }));
      await settle();
      const before = Array.from({ length: 5 }, () => deactivation(randomUUID()));
      await publisher.publish(before);
      await waitFor('events before the restart', () => before.every((e) => handled.has(e.id)), timeout);
      await target.restartBroker!();
      const afterRestart = Array.from({ length: 5 }, () => deactivation(randomUUID()));
      await publisher.publish(afterRestart); // must wait for the reconnection, not fail or drop
      await waitFor('events after the restart', () => afterRestart.every((e) => handled.has(e.id)), 90_000, 100);
      assert.ok(consumer.isHealthy() && publisher.isHealthy(), 'both report healthy again');
    }, 180_000);
  });
}
