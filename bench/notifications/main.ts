// bench-needs: postgres
//
// Notifications benchmark: messages/s delivered to a local SMTP server (smtp-server) from a burst
// of 10,000 `login.granted` events (inbox → queue row in the handler's transaction → sender claims
// with SKIP LOCKED → secret opened, template rendered → nodemailer pool → SMTP), next to nodemailer
// sending the same messages directly to the same server in the same run (the ceiling: no
// database, no bus, no templates; the messages rendered before its clock starts, text and the HTML
// alternative the service sends with every e-mail). A text-only run is shown for reference: how much
// the HTML part costs nodemailer itself. BENCH_EVENTS overrides the count.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { cpus } from 'node:os';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { createEvent, type EventOf } from '@roster/contracts';
import { MemoryBus } from '@roster/platform/bus/memory';
import { parseSealingPublicKey, seal } from '@roster/platform/crypto/sealing';
import { startService } from '@roster/platform/service';
import { htmlOf } from '../../services/notifications/src/messages/html.js';
import { queueCredentials } from '../../services/notifications/src/reactions/credentials.js';
import { runtimeOf } from '../../services/notifications/src/runtime.js';
import { notificationsService } from '../../services/notifications/src/service.js';
import { renderTemplate, templateDefinition } from '../../services/notifications/src/templates/render.js';
import { createTestDatabase } from '../../packages/platform/test/support/postgres.js';
import { testTokens } from '../../packages/platform/test/support/tokens.js';
import { waitFor } from '../../packages/platform/test/support/wait.js';

const COUNT = Number(process.env.BENCH_EVENTS ?? 10_000);
const progress = (s: string) => process.stderr.write(`${s}\n`);

const SYSTEM = { kind: 'system', personId: null, impersonatorId: null } as const;

interface Row { path: string; messages: number; seconds: number; perSecond: number; note: string }
const rows: Row[] = [];

/** An SMTP server that counts what arrives and resolves when `expected` messages have. */
async function countingSmtp() {
  let received = 0;
  let waiter: { expected: number; resolve: () => void } | null = null;
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        if (waiter && received >= waiter.expected) waiter.resolve();
        callback();
      });
    },
  });
  // smtp-server leaves Nagle's algorithm on: its pipelined replies would wait for the client's
  // delayed ACK (~40 ms on loopback), which measures the kernel rather than either path.
  server.server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    reset: () => void (received = 0),
    received: () => received,
    until: (expected: number, timeoutMs: number) => new Promise<void>((resolve, reject) => {
      if (received >= expected) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${received} of ${expected} messages arrived in ${timeoutMs} ms`)), timeoutMs);
      waiter = { expected, resolve: () => (clearTimeout(timer), resolve()) };
    }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * What the service sends for each event of the burst: the staff_login_credentials e-mail, its text
 * and the HTML alternative (messages/html.ts) with the service's header — rendered here, before any
 * clock starts. `textOnly`: the same text without the HTML part.
 */
function theServicesMessages(textOnly: boolean): SendMailOptions[] {
  const template = templateDefinition('staff_login_credentials')!;
  return Array.from({ length: COUNT }, (_, i) => {
    const loginUrl = 'http://localhost:4001';
    const rendered = renderTemplate(template, { firstName: 'Sam', lastName: `Person${i}`, username: `user${i}`, password: `Tmp-${i}`, expiresAt: '', loginUrl });
    return {
      from: 'Roster <no-reply@roster.local>', to: `person${i}@example.com`, subject: rendered.subject ?? '', text: rendered.body,
      ...(textOnly ? {} : { html: htmlOf(rendered.body, template.key, loginUrl), headers: { 'x-roster-message-id': randomUUID() } }),
    };
  });
}

async function directNodemailer(smtp: Awaited<ReturnType<typeof countingSmtp>>, textOnly: boolean): Promise<void> {
  smtp.reset();
  const messages = theServicesMessages(textOnly);
  // The same transport options as the service's SMTP provider (pool of 5 connections).
  const transport = nodemailer.createTransport({ url: smtp.url, pool: true, maxConnections: 5 } as never);
  const started = performance.now();
  await Promise.all(messages.map((m) => transport.sendMail(m)));
  await smtp.until(COUNT, 120_000);
  const seconds = (performance.now() - started) / 1000;
  transport.close();
  rows.push(textOnly
    ? { path: 'reference: nodemailer → smtp-server, the text alone', messages: COUNT, seconds, perSecond: COUNT / seconds, note: 'as the baseline without the HTML part' }
    : { path: 'nodemailer → smtp-server directly (baseline)', messages: COUNT, seconds, perSecond: COUNT / seconds, note: "the service's messages (text + HTML, its header), pooled transport, 5 connections, every sendMail at once" });
}

async function throughNotifications(smtp: Awaited<ReturnType<typeof countingSmtp>>): Promise<void> {
  smtp.reset();
  const database = await createTestDatabase('roster_bench_notifications');
  const bus = new MemoryBus();
  const tokens = testTokens();
  const service = await startService(notificationsService, {
    bus, env: { PORT: '0', DATABASE_URL: database.url, DB_MIGRATE: 'true', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent', SMTP_URL: smtp.url, ...tokens.env },
  });
  try {
    // The people, known to the service before the clock starts: identity grants logins only to
    // people it knows, and so, on a live system, does notifications (a login for a person not known
    // yet waits for them — the Kafka-order path, not this one).
    const tenantId = randomUUID();
    const personIds = Array.from({ length: COUNT }, () => randomUUID());
    progress(`projecting ${COUNT} people (before the clock starts)`);
    const people = personIds.map((personId, i) => createEvent('directory', {
      type: 'user.created', subject: personId, tenantId, correlationId: randomUUID(), subjectVersion: 1,
      data: { personId, kind: 'staff', firstName: 'Sam', lastName: `Person${i}`, email: `person${i}@example.com`, phone: null, accountId: randomUUID(), roleKey: 'staff', actor: SYSTEM },
    }));
    for (let i = 0; i < people.length; i += 500) await bus.publish(people.slice(i, i + 500));
    await waitFor(`${COUNT} people projected`, async () => Number((await service.ctx.prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM person_projection'))[0]?.n ?? 0) >= COUNT, 120_000, 50);

    progress(`sealing ${COUNT} temporary passwords (before the clock starts)`);
    const key = parseSealingPublicKey(tokens.env.SEALING_PUBLIC_KEY);
    const loginsGranted = (): EventOf<'login.granted'>[] => personIds.map((personId, i) => createEvent('identity', {
      type: 'login.granted', subject: personId, tenantId, correlationId: randomUUID(),
      data: {
        personId, username: `user${i}`, temporary: true, expiresAt: null,
        delivery: { channel: 'email', template: 'staff_login_credentials', to: `person${i}@example.com` },
        secret: seal(key, `Tmp-${i}`), actor: SYSTEM,
      },
    }));
    const events = loginsGranted();
    progress(`publishing ${COUNT} login.granted events`);
    const started = performance.now();
    for (let i = 0; i < events.length; i += 500) await bus.publish(events.slice(i, i + 500));
    let queuedAt = 0;
    const queuedWatch = (async () => {
      for (;;) {
        const [row] = await service.ctx.prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM message');
        if (Number(row?.n ?? 0) >= COUNT) return void (queuedAt = performance.now());
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await smtp.until(COUNT, 600_000);
    const seconds = (performance.now() - started) / 1000;
    await queuedWatch;
    const queuedSeconds = (queuedAt - started) / 1000;
    rows.push({ path: 'notifications: events → queue → sender → smtp-server', messages: COUNT, seconds, perSecond: COUNT / seconds, note: 'first publish → last message received; in-memory bus, Postgres, one replica' });
    rows.push({ path: '… of which events → queued rows (handlers)', messages: COUNT, seconds: queuedSeconds, perSecond: COUNT / queuedSeconds, note: 'the platform consumer: batches of up to 64 events per transaction, one inbox statement per batch, a message row per event' });
    // Every row recorded as sent, and not one message more than events (exactly once).
    for (let waited = 0; ; waited += 50) {
      const [left] = await service.ctx.prisma.$queryRawUnsafe<{ n: bigint }[]>("SELECT count(*) AS n FROM message WHERE status <> 'sent'");
      if (Number(left?.n ?? 0) === 0) break;
      if (waited > 30_000) throw new Error(`${left!.n} messages not recorded as sent`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (smtp.received() !== COUNT) throw new Error(`${smtp.received()} messages arrived for ${COUNT} events`);

    // The sender alone, on a backlog already queued (what a replica drains after an outage): the
    // same credentials messages, queued by the service's own handler code before the clock, not due
    // until the clock starts.
    smtp.reset();
    const backlog = loginsGranted();
    await service.ctx.db.sql.$transaction(async (tx) => {
      for (let i = 0; i < backlog.length; i += 500) await queueCredentials(tx, backlog.slice(i, i + 500), service.ctx.config.publicUrl);
      await tx.$executeRawUnsafe(`UPDATE message SET next_attempt_at = now() + interval '1 hour' WHERE status = 'queued'`);
    });
    const backlogStarted = performance.now();
    await service.ctx.prisma.$executeRawUnsafe(`UPDATE message SET next_attempt_at = now() WHERE status = 'queued'`);
    runtimeOf(service.ctx).sender.nudge();
    await smtp.until(COUNT, 600_000);
    const backlogSeconds = (performance.now() - backlogStarted) / 1000;
    rows.push({ path: 'notifications sender alone: queued backlog → smtp-server', messages: COUNT, seconds: backlogSeconds, perSecond: COUNT / backlogSeconds, note: 'the same credentials e-mails, queued before the clock: claims of 50 (SKIP LOCKED), open the sealed password, render, send, one outcome transaction per batch' });

    // The machine's ceiling for what every handler needs: one durable commit (rule 2, an inbox row per event).
    const pool = new pg.Pool({ connectionString: database.url, max: 16 });
    await pool.query('CREATE TABLE bench_commit (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())');
    const commitStarted = performance.now();
    let commits = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (performance.now() - commitStarted < 3_000) {
        await pool.query('INSERT INTO bench_commit DEFAULT VALUES');
        commits++;
      }
    }));
    const commitSeconds = (performance.now() - commitStarted) / 1000;
    await pool.end();
    rows.push({ path: 'reference: Postgres single-row commits, 16 clients (pg)', messages: commits, seconds: commitSeconds, perSecond: commits / commitSeconds, note: 'commits/s, not messages: the bound on events handled per second' });
  } finally {
    await service.stop();
    await new Promise((r) => setTimeout(r, 200));
    await database.drop();
  }
}

const smtp = await countingSmtp();
const t0 = performance.now();
try {
  await directNodemailer(smtp, false);
  await throughNotifications(smtp);
  await directNodemailer(smtp, true);
} finally {
  await smtp.close();
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`\n## Notifications benchmark (${new Date().toISOString()}, ${cpus().length} CPUs, node ${process.version}, ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
console.log('| path | messages | seconds | messages/s | vs baseline | how |');
console.log('|---|---:|---:|---:|---:|---|');
const baseline = rows[0]!.perSecond;
for (const r of rows) console.log(`| ${r.path} | ${fmt(r.messages)} | ${r.seconds.toFixed(2)} | ${fmt(r.perSecond)} | ${(r.perSecond / baseline * 100).toFixed(0)} % | ${r.note} |`);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
const file = new URL(`../results/notifications-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
writeFileSync(file, `${JSON.stringify({ count: COUNT, rows }, null, 2)}\n`);
progress(`\n  results: ${file.pathname}`);
