import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import amqplib from 'amqplib';
import { coalesceFrameWrites } from '../../src/bus/amqp-write-coalescing.js';
import { uniqueName } from '../support/events.js';

const url = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

interface Socket { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void }

/** Publishes `n` messages in one turn to a temporary queue; returns the socket writes it took and what the queue got. */
async function publishBurst(n: number, coalesce: boolean): Promise<{ writes: number; received: number }> {
  const conn = await amqplib.connect(url);
  try {
    if (coalesce) assert.equal(coalesceFrameWrites(conn), true, 'this amqplib still has the internals the coalescing needs');
    const socket = (conn as unknown as { connection: { stream: Socket } }).connection.stream;
    let writes = 0;
    for (const name of ['_write', '_writev'] as const) {
      const original = socket[name].bind(socket);
      socket[name] = (...args: unknown[]) => (writes++, original(...args));
    }
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue(uniqueName('coalesce'), { exclusive: true });
    writes = 0;
    for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(`message ${i}`));
    await ch.waitForConfirms();
    const counted = writes;
    return { writes: counted, received: (await ch.checkQueue(queue)).messageCount };
  } finally {
    await conn.close();
  }
}

// Issue 19: amqplib wrote each frame with its own syscall; the adapter corks the socket while amqplib drains its channels.
describe('amqplib frame writes coalesced (RabbitMQ)', () => {
  it('200 publishes in one turn go out in a few socket writes instead of one each, and all arrive', async () => {
    const plain = await publishBurst(200, false);
    const coalesced = await publishBurst(200, true);
    assert.equal(plain.received, 200);
    assert.equal(coalesced.received, 200);
    assert.ok(plain.writes >= 200, `without coalescing amqplib writes once per frame (${plain.writes} writes)`);
    assert.ok(coalesced.writes <= 10, `coalesced: ${coalesced.writes} socket writes for 200 publishes`);
  });
});
