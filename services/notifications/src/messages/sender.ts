import type { KeyObject } from 'node:crypto';
import type { EventEnvelope, SealedSecret } from '@roster/contracts';
import { open } from '@roster/platform/crypto/sealing';
import { eventFor, stageEvents } from '@roster/platform/outbox';
import { WorkLoop } from '@roster/platform/work-loop';
import type { BusLogger } from '@roster/platform/bus/types';
import type { SqlClient, SqlTx } from '@roster/platform/db/database';
import type { TransactionRunner } from '@roster/platform/db/sql';
import type { Channel } from '../templates/defaults.js';
import { renderTemplate, TemplateError } from '../templates/render.js';
import { effectiveTemplate, type EffectiveTemplate } from '../templates/store.js';
import type { MessageMetrics } from './metrics.js';
import { htmlOf } from './html.js';
import { DeliveryError, type OutgoingMessage, type Provider } from './providers.js';

export interface SenderOptions {
  db: SqlClient;
  /** Where the outcome transactions run (the driver's own, Database.sql); default `db`. */
  transactions?: TransactionRunner<SqlTx>;
  logger: BusLogger;
  metrics: MessageMetrics;
  providers: Record<Channel, Provider[]>;
  /** Notifications' private sealing keys; null when none are configured (a sealed secret then fails the message). */
  privateKeys: ReadonlyMap<string, KeyObject> | null;
  publicUrl: string;
  /** Identifies this replica's claims. */
  workerId: string;
  /** After a commit that staged events (`ctx.relay.nudge()`). */
  afterCommit(): void;
  batchSize?: number;
  /**
   * Batches in flight at once (default 4): while one waits for its slowest send, the next ones are
   * claimed and sent, so the providers' connection pools stay busy (issue 19). SKIP LOCKED keeps
   * the lanes' claims apart as it does replicas'.
   */
  lanes?: number;
  /** How long a claim holds; a replica that died mid-send leaves a claim that expires and is taken again. */
  claimSeconds?: number;
  maxAttempts?: number;
  pollIntervalMs?: number;
  /** Delay before attempt n+1 after n transient failures. */
  backoffMs?(failedAttempts: number): number;
}

interface ClaimedRow {
  id: string;
  tenant_id: string;
  template: string;
  channel: Channel;
  recipient_person_id: string | null;
  to_address: string;
  variables: Record<string, unknown>;
  sealed_secret: SealedSecret | null;
  attempts: number;
  correlation_id: string | null;
  cause_event_id: string;
  cause_traceparent: string | null;
  cause_tracestate: string | null;
}

interface Recipient {
  status: string | null;
  firstName: string | null;
  lastName: string | null;
  username: string | null;
}

interface BatchContext {
  recipients: Map<string, Recipient>;
  template(tenantId: string, key: string): Promise<EffectiveTemplate | null>;
}

interface Outcome {
  status: 'sent' | 'failed' | 'cancelled' | 'retry';
  error?: string;
  provider?: string;
  providerMessageId?: string | null;
  attempts: ProviderAttempt[];
}

interface ProviderAttempt {
  provider: string;
  outcome: 'sent' | 'transient_failure' | 'permanent_failure';
  error: string | null;
}

/** How a secret enters a template: a password as is, an invitation token inside the acceptance link. */
export type SecretUse = 'password' | 'invitation_link';
export const SECRET_USE = '__secret';

const defaultBackoff = (n: number) => Math.min(15 * 60_000, 1_000 * 2 ** (n - 1)) * (0.8 + Math.random() * 0.4);

/**
 * Sends what the reactions queued (N1): claims due rows with `FOR UPDATE SKIP LOCKED` (replicas
 * never take the same row), renders each with its tenant's template and its secret opened only
 * now, tries the channel's providers in order (B6), then records the outcome, the provider
 * attempts and `notification.sent` / `notification.failed` in one transaction. A transient failure
 * is retried with exponential backoff; the secret is dropped once the message is sent or failed.
 */
export class MessageSender {
  private readonly lanes: WorkLoop[];
  /** The lane a full claim wakes next. */
  private nextLane = 0;

  constructor(private readonly o: SenderOptions) {
    this.lanes = Array.from({ length: Math.max(1, o.lanes ?? 4) }, () => new WorkLoop({
      pass: () => this.sendDue(),
      onFailure: (error, failures) => this.o.logger.warn({ err: error, failures }, 'message sender failed; retrying'),
      pollIntervalMs: o.pollIntervalMs ?? 500,
    }));
  }

  start(): void {
    for (const lane of this.lanes) lane.start();
  }

  /** New messages: one lane looks; a lane that claims a full batch wakes the next (`sendDue`), so an idle sender claims once per nudge. */
  nudge(): void {
    this.lanes[0]!.nudge();
  }

  async stop(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.stop()));
  }

  /**
   * Claims and sends one batch; returns how many rows it claimed. The outcomes are recorded in one
   * transaction per batch: a durable commit is the scarce resource, and a batch's rows were claimed
   * together anyway (a crash before the record leaves claims that expire and are sent again).
   */
  async sendDue(): Promise<number> {
    const rows = await this.claim();
    if (rows.length >= (this.o.batchSize ?? 50) && this.lanes.length > 1) {
      this.nextLane = (this.nextLane + 1) % this.lanes.length;
      this.lanes[this.nextLane]!.nudge();
    }
    if (rows.length === 0) return 0;
    const batch = await this.batchContext(rows);
    const outcomes = await Promise.all(rows.map(async (row) => ({ row, outcome: await this.deliver(row, batch) })));
    const recordAll = (items: typeof outcomes) => (this.o.transactions ?? this.o.db).$transaction((tx) => this.record(tx, items), { timeout: 30_000, maxWait: 10_000 });
    try {
      if (await recordAll(outcomes)) this.o.afterCommit();
      for (const { row, outcome } of outcomes) this.report(row, outcome);
    } catch (batchError) {
      // One row must not make a whole batch of sent messages look unsent (they would be sent again
      // when their claims expire): record them one by one.
      this.o.logger.warn({ err: batchError, messages: rows.length }, 'recording a batch failed; recording its messages one by one');
      for (const item of outcomes) {
        try {
          if (await recordAll([item])) this.o.afterCommit();
          this.report(item.row, item.outcome);
        } catch (error) {
          this.o.logger.error({ err: error, messageId: item.row.id }, 'could not record the outcome of a message; its claim will expire and it will be taken again');
        }
      }
    }
    return rows.length;
  }

  // The sender works for every tenant: each row carries its tenant, and everything written about
  // a row below is keyed by its id and tenant.
  private async claim(): Promise<ClaimedRow[]> {
    return this.o.db.$queryRawUnsafe<ClaimedRow[]>(
      `WITH due AS (
         SELECT id FROM message
          WHERE (status = 'queued' AND next_attempt_at <= now()) OR (status = 'sending' AND claimed_until < now())
          ORDER BY next_attempt_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE message m
          SET status = 'sending', claimed_by = $2, claimed_until = now() + make_interval(secs => $3::int),
              attempts = m.attempts + 1, updated_at = now()
         FROM due WHERE m.id = due.id
       RETURNING m.id, m.tenant_id, m.template, m.channel, m.recipient_person_id, m.to_address, m.variables,
                 m.sealed_secret, m.attempts, m.correlation_id, m.cause_event_id, m.cause_traceparent, m.cause_tracestate`,
      this.o.batchSize ?? 50, this.o.workerId, this.o.claimSeconds ?? 60,
    );
  }

  /** Sends one claimed message through the channel's providers in order (B6); never throws. */
  private async deliver(row: ClaimedRow, batch: BatchContext): Promise<Outcome> {
    try {
      const recipient = row.recipient_person_id ? batch.recipients.get(row.recipient_person_id) : undefined;
      if (recipient?.status && recipient.status !== 'active') return { status: 'cancelled', error: 'the recipient is no longer active', attempts: [] };
      let outgoing: OutgoingMessage;
      try {
        outgoing = await this.prepare(row, batch, recipient);
      } catch (error) {
        return { status: 'failed', error: (error as Error).message, attempts: [] };
      }
      const attempts: ProviderAttempt[] = [];
      for (const provider of this.o.providers[row.channel]) {
        try {
          const { providerMessageId } = await provider.send(outgoing);
          attempts.push({ provider: provider.name, outcome: 'sent', error: null });
          return { status: 'sent', provider: provider.name, providerMessageId, attempts };
        } catch (error) {
          const failure = error instanceof DeliveryError ? error : new DeliveryError((error as Error).message, true);
          attempts.push({ provider: provider.name, outcome: failure.transient ? 'transient_failure' : 'permanent_failure', error: failure.message });
          this.o.metrics.failedOver.inc({ channel: row.channel });
        }
      }
      const transient = attempts.some((a) => a.outcome === 'transient_failure');
      const reason = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
      if (transient && row.attempts < (this.o.maxAttempts ?? 8)) return { status: 'retry', error: reason, attempts };
      return { status: 'failed', error: transient ? `gave up after ${row.attempts} attempts: ${reason}` : reason, attempts };
    } catch (error) {
      // The database failed before sending: try again later.
      return { status: 'retry', error: `before sending: ${(error as Error).message}`, attempts: [] };
    }
  }

  /**
   * What a batch's messages need from the database, read once for the batch: their recipients'
   * status, names and username (names the reaction could not know yet: events from different
   * services arrive in any order), and each tenant's template.
   */
  private async batchContext(rows: ClaimedRow[]): Promise<BatchContext> {
    const withRecipient = rows.filter((r) => r.recipient_person_id);
    const found = withRecipient.length === 0 ? [] : await this.o.db.$queryRawUnsafe<(Recipient & { id: string })[]>(
      `SELECT x.id, p.status, p.first_name AS "firstName", p.last_name AS "lastName", l.username
         FROM unnest($1::uuid[], $2::uuid[]) AS x(id, tenant_id)
         LEFT JOIN person_projection p ON p.id = x.id AND p.tenant_id = x.tenant_id
         LEFT JOIN login_projection l ON l.person_id = x.id AND l.tenant_id = x.tenant_id`,
      withRecipient.map((r) => r.recipient_person_id), withRecipient.map((r) => r.tenant_id),
    );
    const templates = new Map<string, Promise<EffectiveTemplate | null>>();
    return {
      recipients: new Map(found.map(({ id, ...r }) => [id, r])),
      template: (tenantId, key) => {
        const k = `${tenantId}:${key}`;
        if (!templates.has(k)) templates.set(k, effectiveTemplate(this.o.db, tenantId, key));
        return templates.get(k)!;
      },
    };
  }

  /** The rendered message, with its secret opened here and nowhere else (rule 5). All or nothing. */
  private async prepare(row: ClaimedRow, batch: BatchContext, recipient: Recipient | undefined): Promise<OutgoingMessage> {
    const template = await batch.template(row.tenant_id, row.template);
    if (!template) throw new TemplateError(`unknown template ${row.template}`);
    const { [SECRET_USE]: use, ...values } = row.variables;
    if (use) {
      if (!row.sealed_secret) throw new Error('the secret of this message was already dropped');
      if (!this.o.privateKeys) throw new Error('no sealing private key configured (SEALING_PRIVATE_KEYS)');
      const secret = open(this.o.privateKeys, row.sealed_secret);
      if (use === 'password') values.password = secret;
      else values.link = `${this.o.publicUrl}/invitations/${encodeURIComponent(secret)}/accept`;
    }
    for (const k of ['firstName', 'lastName', 'username'] as const) if ((values[k] === '' || values[k] === undefined) && recipient?.[k]) values[k] = recipient[k];
    const rendered = renderTemplate(template, values);
    const mainLink = typeof values.link === 'string' ? values.link : typeof values.loginUrl === 'string' ? values.loginUrl : null;
    return {
      id: row.id, channel: row.channel, to: row.to_address, subject: rendered.subject, body: rendered.body,
      ...(row.channel === 'email' ? { html: htmlOf(rendered.body, row.template, mainLink) } : {}),
    };
  }

  /**
   * Writes a batch's outcomes in its transaction, set-based (issue 19): one statement for the
   * retries, one for the final outcomes, one for the provider attempts of the rows still ours,
   * one for their events. True when it staged an event.
   */
  private async record(tx: SqlTx, items: readonly { row: ClaimedRow; outcome: Outcome }[]): Promise<boolean> {
    const retries = items.filter((i) => i.outcome.status === 'retry');
    const finals = items.filter((i) => i.outcome.status !== 'retry');
    const error = (o: Outcome) => o.error?.slice(0, 1000) ?? null;
    const ours = new Set<string>();
    if (retries.length > 0) {
      const backoff = this.o.backoffMs ?? defaultBackoff;
      const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
        `UPDATE message m SET status = 'queued', claimed_by = NULL, claimed_until = NULL, last_error = x.error,
                next_attempt_at = now() + make_interval(secs => x.delay), updated_at = now()
           FROM unnest($2::uuid[], $3::text[], $4::float8[]) AS x(id, error, delay)
          WHERE m.id = x.id AND m.claimed_by = $1 AND m.status = 'sending' RETURNING m.id::text`,
        this.o.workerId, retries.map((i) => i.row.id), retries.map((i) => error(i.outcome)), retries.map((i) => backoff(i.row.attempts) / 1000),
      );
      for (const r of rows) ours.add(r.id);
    }
    if (finals.length > 0) {
      const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
        `UPDATE message m SET status = x.status, claimed_by = NULL, claimed_until = NULL, last_error = x.error, sealed_secret = NULL,
                provider = COALESCE(x.provider, m.provider), provider_message_id = COALESCE(x.provider_message_id, m.provider_message_id),
                sent_at = CASE WHEN x.status = 'sent' THEN now() ELSE m.sent_at END, updated_at = now()
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(id, status, error, provider, provider_message_id)
          WHERE m.id = x.id AND m.claimed_by = $1 AND m.status = 'sending' RETURNING m.id::text`,
        this.o.workerId, finals.map((i) => i.row.id), finals.map((i) => i.outcome.status), finals.map((i) => error(i.outcome)),
        finals.map((i) => i.outcome.provider ?? null), finals.map((i) => i.outcome.providerMessageId ?? null),
      );
      for (const r of rows) ours.add(r.id);
    }
    // A row whose claim expired and another replica took: its outcome is the one recorded.
    const recorded = items.filter((i) => ours.has(i.row.id));
    const attempts = recorded.flatMap(({ row, outcome }) => outcome.attempts.map((a) => ({ row, a })));
    if (attempts.length > 0) {
      await tx.$executeRawUnsafe(
        `INSERT INTO message_attempt (message_id, tenant_id, attempt, provider, outcome, error)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[])`,
        attempts.map((x) => x.row.id), attempts.map((x) => x.row.tenant_id), attempts.map((x) => x.row.attempts),
        attempts.map((x) => x.a.provider), attempts.map((x) => x.a.outcome), attempts.map((x) => x.a.error?.slice(0, 1000) ?? null),
      );
    }
    const events = recorded.flatMap(({ row, outcome }): EventEnvelope[] => {
      if (outcome.status === 'sent') {
        return [causedByTheMessage(row, eventFor('notifications', {
          type: 'notification.sent', subject: row.id, tenantId: row.tenant_id,
          data: { messageId: row.id, template: row.template, channel: row.channel, recipientPersonId: row.recipient_person_id, provider: (outcome.provider ?? 'unknown').slice(0, 64) },
        }))];
      }
      if (outcome.status === 'failed') {
        return [causedByTheMessage(row, eventFor('notifications', {
          type: 'notification.failed', subject: row.id, tenantId: row.tenant_id,
          data: { messageId: row.id, template: row.template, channel: row.channel, recipientPersonId: row.recipient_person_id, reason: (outcome.error ?? 'failed').slice(0, 1000), attempts: Math.max(1, row.attempts) },
        }))];
      }
      return [];
    });
    await stageEvents(tx, events);
    return events.length > 0;
  }

  /** Metrics and a log line per outcome, after the commit (never the body or a secret). */
  private report(row: ClaimedRow, outcome: Outcome): void {
    const { status } = outcome;
    const log = { messageId: row.id, tenantId: row.tenant_id, template: row.template, channel: row.channel, attempt: row.attempts, provider: outcome.provider };
    if (status === 'sent') {
      this.o.metrics.sent.inc({ channel: row.channel, provider: outcome.provider ?? 'unknown' });
      if (outcome.provider?.startsWith('file:')) this.o.logger.info({ ...log, file: outcome.providerMessageId }, 'message written to the mail outbox folder');
      else this.o.logger.info(log, 'message sent');
    } else if (status === 'retry') {
      this.o.metrics.retried.inc({ channel: row.channel });
      this.o.logger.warn({ ...log, reason: outcome.error }, 'message send failed; will retry');
    } else if (status === 'failed') {
      this.o.metrics.failed.inc({ channel: row.channel });
      this.o.logger.warn({ ...log, reason: outcome.error }, 'message failed');
    } else {
      this.o.logger.info({ ...log, reason: outcome.error }, 'message cancelled');
    }
  }
}

/**
 * The sender runs outside any delivery: an outcome's event takes the cascade, causation and trace
 * of the event that queued the message (issue 16 item 3), so `roster trace`, the CloudEvents chain
 * and the OTel trace lead from a deactivation to the e-mails it caused.
 */
function causedByTheMessage<E extends EventEnvelope>(row: ClaimedRow, event: E): E {
  return {
    ...event,
    ...(row.correlation_id ? { correlationid: row.correlation_id } : {}),
    causationid: row.cause_event_id,
    ...(row.cause_traceparent ? { traceparent: row.cause_traceparent } : {}),
    ...(row.cause_tracestate ? { tracestate: row.cause_tracestate } : {}),
  };
}
