import type { ChannelModel } from 'amqplib';

/**
 * amqplib writes every frame it has queued (each publish, ack and confirm-mode method) to the
 * socket with its own `write`, and an uncorked socket turns each into a syscall: in bench/system's
 * 1 staff × 1,000 accounts row that was 16 % of the process's CPU. Corking the socket around the
 * loop in which amqplib's multiplexer drains its channels sends the same bytes, in the same order,
 * as one `writev` per loop.
 *
 * This reaches into amqplib's Connection (`muxer`, `stream`): when a release renames them, nothing
 * breaks — the writes are simply not coalesced, this returns false and the session logs it (a test
 * on RabbitMQ fails, so an upgrade cannot lose it silently).
 */
interface Muxer { _readIncoming(): void }
interface AmqpConnectionInternals { muxer?: Muxer; stream?: { cork?(): void; uncork?(): void } }

const coalesced = new WeakSet<object>();

export function coalesceFrameWrites(model: ChannelModel): boolean {
  const internals = (model as unknown as { connection?: AmqpConnectionInternals }).connection;
  const muxer = internals?.muxer;
  const socket = internals?.stream;
  if (!muxer || typeof muxer._readIncoming !== 'function' || typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return false;
  if (coalesced.has(muxer)) return true;
  const drainChannels = muxer._readIncoming.bind(muxer);
  muxer._readIncoming = () => {
    socket.cork!();
    try {
      drainChannels();
    } finally {
      socket.uncork!();
    }
  };
  coalesced.add(muxer);
  return true;
}
