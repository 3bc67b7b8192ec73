import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, it } from '@jest/globals';
import amqplib from 'amqplib';
import { createEvent } from '@roster/contracts';
import { encode } from '../../src/bus/codec.js';
import { RabbitMqBus } from '../../src/bus/rabbitmq.js';
import type { Bus, DeadLetter } from '../../src/bus/types.js';
import { busContract } from './bus.contract.js';
import { deleteRabbitNamespaces, rabbitmqctl, rabbitNode } from '../support/brokers.js';
import { deactivation, uniqueName } from '../support/events.js';
import { waitFor } from '../support/wait.js';

const url = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const namespaces = new Set<string>();
const buses: Bus[] = [];

async function makeBus(
  namespace: string, extra: Partial<ConstructorParameters<typeof RabbitMqBus>[0]> = {},
): Promise<RabbitMqBus> {
  namespaces.add(namespace);
  const bus = new RabbitMqBus({ url, namespace, instanceId: uniqueName('test'), ...extra });
  buses.push(bus);
  await bus.connect();
  return bus;
}

// ---- the broker: stopped and started with rabbitmqctl, always started again ---------------

let brokerStopped = false;
const startBrokerSync = () => {
  if (brokerStopped) spawnSync('rabbitmqctl', ['-n', rabbitNode, 'start_app'], { stdio: 'ignore', timeout: 60_000 });
};
process.on('exit', startBrokerSync); // even when the runner gives up on this file

const portAccepts = () => new Promise<boolean>((resolve) => {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port || 5672) });
  socket.setTimeout(1_000);
  socket.on('connect', () => (socket.destroy(), resolve(true)));
  socket.on('error', () => resolve(false));
  socket.on('timeout', () => (socket.destroy(), resolve(false)));
});

async function stopBroker(): Promise<void> {
  brokerStopped = true;
  await rabbitmqctl(['stop_app']);
}

async function startBroker(): Promise<void> {
  await rabbitmqctl(['start_app']);
  await waitFor('RabbitMQ to accept connections', portAccepts, 60_000, 100);
  brokerStopped = false;
}

async function restartBroker(): Promise<void> {
  try {
    await stopBroker();
  } finally {
    await startBroker();
  }
}

/** The broker's ids of the connections of `instanceId` (the connection name carries it). */
async function connectionsOf(instanceId: string): Promise<string[]> {
  const { stdout } = await rabbitmqctl(['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties']);
  return stdout.split('\n').filter((line) => line.includes(instanceId)).map((line) => line.split('\t')[0]!);
}

// ---- clean-up: every exchange and queue of the namespaces used here ------------------------


afterAll(async () => {
  await Promise.allSettled(buses.map((bus) => bus.close()));
  if (brokerStopped || !(await portAccepts())) await startBroker();
  assert.deepEqual(await deleteRabbitNamespaces(url, namespaces), [], 'the tests leave no broker object behind');
});

// ---- the contract, unchanged -----------------------------------------------------------------

busContract('rabbitmq', { makeBus: (namespace) => makeBus(namespace), restartBroker, settleMs: 50 });

// ---- what only RabbitMQ has ----------------------------------------------------------------

describe('rabbitmq adapter', () => {
  const namespace = uniqueName('rabbit');
  const TYPE = 'user.deactivated';

  /** Declaring a queue again succeeds only when it is equivalent (durability, arguments). */
  async function assertEquivalent(queue: string, options: amqplib.Options.AssertQueue): Promise<boolean> {
    const conn = await amqplib.connect(url);
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.assertQueue(queue, options);
      return true;
    } catch {
      return false;
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  it('declares a durable group queue, durable retry queues with the backoff delays, and a durable dead queue', async () => {
    const bus = await makeBus(namespace);
    const group = uniqueName('topology');
    const sub = await bus.subscribe({
      group, types: [TYPE], retry: { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 300 }, handler: async () => undefined,
    });
    try {
      const groupQueue = `${namespace}.${group}`;
      assert.ok(await assertEquivalent(groupQueue, { durable: true }));
      assert.ok(!(await assertEquivalent(groupQueue, { durable: false })), 'the group queue is durable');
      for (const [n, ttl] of [[1, 100], [2, 200], [3, 300]] as const) {
        const args = { 'x-message-ttl': ttl, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': groupQueue };
        assert.ok(await assertEquivalent(`${groupQueue}.retry.${n}`, { durable: true, arguments: args }), `retry.${n}`);
        assert.ok(!(await assertEquivalent(`${groupQueue}.retry.${n}`, { durable: false, arguments: args })), `retry.${n} is durable`);
      }
      assert.ok(await assertEquivalent(`${groupQueue}.dead`, { durable: true }));
      assert.ok(!(await assertEquivalent(`${groupQueue}.dead`, { durable: false })), 'the dead queue is durable');
    } finally {
      await sub.close();
    }
  });

  it('keeps the original headers, properties and body in a dead letter, with reason, attempts, group and time', async () => {
    const bus = await makeBus(namespace);
    const group = uniqueName('dead-headers');
    const event = deactivation(randomUUID());
    const sub = await bus.subscribe({
      group, types: [TYPE], retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 20 },
      handler: async () => {
        throw new Error('always broken');
      },
    });
    try {
      await bus.publish([event]);
      const conn = await amqplib.connect(url);
      try {
        const ch = await conn.createChannel();
        const msg = await waitFor('the dead letter', async () => (await ch.get(`${namespace}.${group}.dead`, { noAck: true })) || null, 10_000, 50);
        const headers = msg.properties.headers ?? {};
        const { 'content-type': contentType, ...ceHeaders } = encode(event, 'amqp').headers;
        for (const [name, value] of Object.entries(ceHeaders)) assert.equal(String(headers[name]), value, name);
        assert.equal(msg.properties.contentType, contentType);
        assert.equal(msg.properties.messageId, event.id);
        assert.equal(msg.properties.deliveryMode, 2, 'persistent');
        assert.equal(msg.content.toString('utf8'), JSON.stringify(event.data));
        assert.match(String(headers['x-roster-dead-reason']), /handler failed 2 times: Error: always broken/);
        assert.equal(Number(headers['x-roster-attempts']), 2);
        assert.equal(String(headers['x-roster-group']), group);
        assert.ok(!Number.isNaN(Date.parse(String(headers['x-roster-dead-at']))), 'x-roster-dead-at is a time');
        assert.equal(headers['x-death'], undefined, 'no broker bookkeeping');
        await ch.close();
      } finally {
        await conn.close();
      }
    } finally {
      await sub.close();
    }
  });

  it('hands a dead letter back with exactly the headers the event was published with', async () => {
    const bus = await makeBus(namespace);
    const group = uniqueName('dead-roundtrip');
    const event = deactivation(randomUUID());
    const dead: DeadLetter[] = [];
    const subs = [
      await bus.subscribe({ group, types: [TYPE], retry: { maxAttempts: 1 }, handler: async () => Promise.reject(new Error('no')) }),
      await bus.consumeDeadLetters(group, async (d) => void dead.push(d)),
    ];
    try {
      await bus.publish([event]);
      const letter = await waitFor('the dead letter', () => dead[0], 10_000);
      assert.deepEqual(letter.message, encode(event, 'amqp'));
      assert.equal(letter.eventId, event.id);
      assert.equal(letter.attempts, 1);
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });

  it('routes each type to the subscription that asked for it when one process subscribes a group twice', async () => {
    const bus = await makeBus(namespace);
    const group = uniqueName('two-subs');
    const got = { deactivated: [] as string[], reactivated: [] as string[] };
    const subs = [
      await bus.subscribe({ group, types: ['user.deactivated'], handler: async (e) => void got.deactivated.push(e.type) }),
      await bus.subscribe({ group, types: ['user.reactivated'], handler: async (e) => void got.reactivated.push(e.type) }),
    ];
    try {
      const d = deactivation(randomUUID());
      const r = createEvent('directory', { type: 'user.reactivated', subject: d.subject, tenantId: d.tenantid, correlationId: randomUUID(), data: d.data });
      await bus.publish([d, r, deactivation(randomUUID()), { ...r, id: randomUUID() }]);
      await waitFor('four events', () => got.deactivated.length + got.reactivated.length >= 4, 10_000);
      assert.deepEqual(got, { deactivated: ['user.deactivated', 'user.deactivated'], reactivated: ['user.reactivated', 'user.reactivated'] });
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });

  it('loses nothing when the connection dies in the middle of publishing: unconfirmed messages are sent again', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_: object, msg: string) => void warnings.push(msg) };
    const instanceId = uniqueName('killed');
    const publisher = await makeBus(namespace, { instanceId, logger });
    const consumer = await makeBus(namespace);
    const handled = new Set<string>();
    const sub = await consumer.subscribe({ group: uniqueName('killed'), types: [TYPE], handler: async (e) => void handled.add(e.id) });
    const [pid, ...others] = await connectionsOf(instanceId);
    assert.ok(pid && others.length === 0, 'one connection per bus');
    // Publish in a steady stream of overlapping calls and kill the connection in the middle of it.
    let killed = false;
    const kill = rabbitmqctl(['close_connection', pid, 'killed by the test']).finally(() => void (killed = true));
    const ids: string[] = [];
    const calls: Promise<void>[] = [];
    while (!killed) {
      const round = Array.from({ length: 4 }, () => {
        const batch = Array.from({ length: 25 }, () => deactivation(randomUUID()));
        ids.push(...batch.map((e) => e.id));
        return publisher.publish(batch);
      });
      calls.push(...round);
      await Promise.race([Promise.allSettled(round), sleep(20)]);
    }
    await kill;
    await Promise.all(calls);
    assert.ok(warnings.includes('RabbitMQ connection lost; reconnecting'), 'the publisher saw its connection die');
    assert.ok(warnings.some((w) => w.includes('publishing again')), 'some messages were unconfirmed when it died');
    await waitFor(`all ${ids.length} events`, () => ids.every((id) => handled.has(id)), 30_000, 50);
    await sub.close();
  });

  it('publish() during an outage waits for the broker and completes; past its deadline it rejects', async () => {
    const publisher = await makeBus(namespace);
    const impatient = await makeBus(namespace, { publishTimeoutMs: 300 });
    const consumer = await makeBus(namespace);
    const handled = new Set<string>();
    const sub = await consumer.subscribe({ group: uniqueName('outage'), types: [TYPE], handler: async (e) => void handled.add(e.id) });
    const events = Array.from({ length: 3 }, () => deactivation(randomUUID()));
    let settled = false;
    try {
      await stopBroker();
      await waitFor('the buses to notice', () => !publisher.isHealthy() && !consumer.isHealthy(), 10_000);
      const pending = publisher.publish(events).finally(() => void (settled = true));
      pending.catch(() => undefined);
      await assert.rejects(impatient.publish([deactivation(randomUUID())]), /not connected: gave up publishing after 300 ms/);
      await sleep(500);
      assert.equal(settled, false, 'publish() waits while the broker is down');
      await startBroker();
      await pending;
    } finally {
      if (brokerStopped) await startBroker();
    }
    await waitFor('the events published during the outage', () => events.every((e) => handled.has(e.id)), 30_000, 50);
    assert.ok(publisher.isHealthy() && consumer.isHealthy());
    await sub.close();
  }, 120_000);
});
