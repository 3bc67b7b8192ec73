// `roster dead-letters list|redrive <service>`: what a consumer group gave up on, and sending it
// back once the cause is fixed.
//
// list    reads without removing anything. RabbitMQ: the group's `<ns>.<group>.dead` queue is
//         read with basic.get and nothing is acknowledged, so closing the channel puts every
//         message back. Kafka: the `<ns>.dead-letter` topic is read from its beginning by a
//         throw-away consumer group; a dead letter the redrive cursor (the group
//         `<ns>.<group>.dead-letter-reader`) already passed is marked `redriven`.
// redrive takes them through the bus's `consumeDeadLetters` and republishes each with
//         `publishRaw` under its event type: every group subscribed to the type gets it again,
//         and the ones that handled it before ignore it (their inbox). A dead letter without a type
//         (or not among `--id`) cannot be routed: on RabbitMQ it goes back to the dead-letter queue
//         as it was; on Kafka it stays in the topic and the cursor moves past it.
import { randomUUID } from 'node:crypto';

const transportOf = (url) => (/^amqps?:/.test(url) ? 'rabbitmq' : url.startsWith('kafka:') ? 'kafka' : null);
const str = (v) => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
const subjectOf = (headers) => headers['cloudEvents:subject'] ?? headers['ce_subject'] ?? '';

export function checkBus(busUrl) {
  const transport = transportOf(busUrl ?? '');
  if (!transport) throw new Error(`dead letters live on a broker: give --bus amqp://… or kafka://… (got "${busUrl ?? ''}"; the in-memory bus keeps them in its process)`);
  return transport;
}

// ---- RabbitMQ ---------------------------------------------------------------------------------

const BOOKKEEPING = /^(x-roster-|x-death$|x-first-death-|x-last-death-)/;

async function listRabbit(busUrl, namespace, group) {
  const { default: amqp } = await import('amqplib');
  const conn = await amqp.connect(busUrl);
  const out = [];
  try {
    const queue = `${namespace}.${group}.dead`;
    const ch = await conn.createChannel();
    const dead = await ch.checkQueue(queue).catch(() => null);
    if (!dead) return out; // never declared: nothing ever died there
    // basic.get without ack: the messages stay in the queue and come back when the channel closes.
    for (let i = 0; i < dead.messageCount; i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      const h = msg.properties.headers ?? {};
      out.push({
        group: str(h['x-roster-group']) ?? group,
        eventId: str(h['cloudEvents:id']) ?? str(msg.properties.messageId) ?? null,
        eventType: str(h['cloudEvents:type']) ?? str(h['x-roster-routing-key']) ?? null,
        subject: str(h['cloudEvents:subject']) ?? null,
        reason: str(h['x-roster-dead-reason']) ?? 'unknown',
        attempts: Number(str(h['x-roster-attempts']) ?? 0),
        deadAt: str(h['x-roster-dead-at']) ?? null,
      });
    }
    await ch.close();
  } finally {
    await conn.close();
  }
  return out;
}

/** Puts a dead letter back where it was (RabbitMQ), its bookkeeping headers restored. */
async function putBackRabbit(busUrl, namespace, deadLetters) {
  if (deadLetters.length === 0) return;
  const { default: amqp } = await import('amqplib');
  const conn = await amqp.connect(busUrl);
  try {
    const ch = await conn.createConfirmChannel();
    for (const d of deadLetters) {
      const { 'content-type': contentType, ...own } = Object.fromEntries(Object.entries(d.message.headers).filter(([k]) => !BOOKKEEPING.test(k)));
      ch.publish(`${namespace}.dead-letter`, d.group, Buffer.from(d.message.body, 'utf8'), {
        persistent: true,
        ...(contentType ? { contentType } : {}),
        headers: { ...own, 'x-roster-dead-reason': d.reason, 'x-roster-attempts': d.attempts, 'x-roster-group': d.group, 'x-roster-dead-at': d.deadAt },
      });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

// ---- Kafka ------------------------------------------------------------------------------------

async function listKafka(busUrl, namespace, group) {
  const { Kafka, logLevel } = await import('kafkajs');
  const brokers = busUrl.replace(/^kafka:\/\//, '').split(',').filter(Boolean);
  // Fail fast when the broker is not there: a person is waiting at the terminal.
  const kafka = new Kafka({ clientId: `roster-cli-${process.pid}`, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 2 } });
  const topic = `${namespace}.dead-letter`;
  const admin = kafka.admin();
  await admin.connect();
  const browser = `${namespace}.${group}.dead-letter-browser.${randomUUID().slice(0, 8)}`;
  const out = [];
  try {
    if (!(await admin.listTopics()).includes(topic)) return out;
    const ends = await admin.fetchTopicOffsets(topic);
    const high = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
    const low = new Map(ends.map((p) => [p.partition, BigInt(p.low)]));
    const [cursor] = await admin.fetchOffsets({ groupId: `${namespace}.${group}.dead-letter-reader`, topics: [topic] });
    const passed = new Map((cursor?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    const remaining = new Set([...high].filter(([p, h]) => h > low.get(p)).map(([p]) => p));
    if (remaining.size === 0) return out;
    const consumer = kafka.consumer({ groupId: browser, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`reading ${topic} took more than 60 s`)), 60_000);
        consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const h = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, str(Array.isArray(v) ? v[0] : v)]));
            const offset = BigInt(message.offset);
            if (h.roster_dead_group === group) {
              out.push({
                group,
                eventId: h.ce_id ?? null,
                eventType: h.ce_type ?? null,
                subject: h.ce_subject ?? null,
                reason: h.roster_dead_reason ?? 'unknown',
                attempts: Number(h.roster_dead_attempts ?? 0),
                deadAt: h.roster_dead_at ?? new Date(Number(message.timestamp)).toISOString(),
                redriven: offset < (passed.get(partition) ?? -1n),
              });
            }
            if (offset + 1n >= high.get(partition)) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        }).catch(reject);
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([browser]).catch(() => undefined);
    }
  } finally {
    await admin.disconnect();
  }
  return out;
}

// ---- commands ---------------------------------------------------------------------------------

/** The dead letters of `group`, oldest first, without removing any. */
export async function listDeadLetters({ busUrl, namespace, group }) {
  const transport = checkBus(busUrl);
  return transport === 'rabbitmq' ? listRabbit(busUrl, namespace, group) : listKafka(busUrl, namespace, group);
}

/**
 * Republishes the dead letters of `group` (only those whose event id is in `ids`, when given)
 * through the bus. `createBus` is the platform's. Returns what was redriven and what was kept back.
 */
export async function redriveDeadLetters({ busUrl, namespace, group, ids, createBus, idleMs = 3_000 }) {
  const transport = checkBus(busUrl);
  const pending = (await listDeadLetters({ busUrl, namespace, group })).filter((d) => !d.redriven);
  const result = { redriven: [], keptBack: [] };
  if (pending.length === 0) return result;
  const bus = await createBus(busUrl, { namespace, instanceId: `roster-cli-${process.pid}` });
  await bus.connect();
  const putBack = [];
  let lastSeen = Date.now();
  let subscription;
  try {
    subscription = await bus.consumeDeadLetters(group, async (d) => {
      lastSeen = Date.now();
      const wanted = !ids || ids.includes(d.eventId);
      if (wanted && d.eventType) {
        await bus.publishRaw(d.eventType, subjectOf(d.message.headers), d.message);
        result.redriven.push({ eventId: d.eventId, eventType: d.eventType, reason: d.reason });
      } else {
        if (transport === 'rabbitmq') putBack.push(d);
        result.keptBack.push({ eventId: d.eventId, eventType: d.eventType, reason: d.reason, why: d.eventType ? 'not among --id' : 'no event type to route it by' });
      }
    });
    // Done when every pending dead letter was seen, or nothing came for a while (Kafka joins its group first).
    const deadline = Date.now() + 120_000;
    lastSeen = Date.now();
    while (result.redriven.length + result.keptBack.length < pending.length && Date.now() - lastSeen < idleMs + (transport === 'kafka' ? 10_000 : 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await subscription?.close();
    if (transport === 'rabbitmq') await putBackRabbit(busUrl, namespace, putBack);
    await bus.close();
  }
  return result;
}

export function renderDeadLetters(group, items) {
  if (items.length === 0) return `no dead letters for ${group}`;
  const header = ['event id', 'type', 'attempts', 'dead at', 'reason'];
  const rows = items.map((d) => [d.eventId ?? '-', d.eventType ?? '-', String(d.attempts), d.deadAt ?? '-', `${d.redriven ? '(redriven) ' : ''}${d.reason}`]);
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r) => r.map((c, i) => (i < widths.length ? c.padEnd(widths[i]) : c)).join('  ');
  return [`${items.length} dead letter(s) for ${group}`, fmt(header), ...rows.map(fmt)].join('\n');
}
