import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Channel } from '../templates/defaults.js';

/** What a provider is asked to deliver. */
export interface OutgoingMessage {
  id: string;
  channel: Channel;
  to: string;
  subject: string | null;
  body: string;
  /** E-mail only: the HTML alternative (multipart/alternative with the text). */
  html?: string | undefined;
}

/** A provider's refusal: `transient` ones are retried later (4xx SMTP, connection errors, HTTP 5xx/429). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(message: string, readonly transient: boolean) {
    super(message);
  }
}

export interface Provider {
  /** Shown in the delivery log and used by status callbacks (`sms:<name>`); never holds credentials. */
  name: string;
  channel: Channel;
  send(message: OutgoingMessage): Promise<{ providerMessageId: string | null }>;
  close(): void;
}

/** SMTP through nodemailer, pooled; the SMTP reply code decides whether a failure is worth retrying. */
export function smtpProvider(url: string, from: string): Provider {
  const parsed = new URL(url);
  const transport: Transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 20_000,
  } as SMTPPool.Options);
  return {
    name: `smtp:${parsed.hostname}:${parsed.port || (parsed.protocol === 'smtps:' ? 465 : 25)}`,
    channel: 'email',
    async send(m) {
      try {
        const info = await transport.sendMail({ from, to: m.to, subject: m.subject ?? '', text: m.body, ...(m.html ? { html: m.html } : {}), headers: { 'x-roster-message-id': m.id } });
        return { providerMessageId: info.messageId ?? null };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close: () => transport.close(),
  };
}

export function classifySmtpError(error: unknown): DeliveryError {
  const e = error as { responseCode?: number; code?: string; message?: string };
  const reason = (e.message ?? String(error)).slice(0, 500);
  if (typeof e.responseCode === 'number') return new DeliveryError(reason, e.responseCode >= 400 && e.responseCode < 500);
  // No SMTP reply: the connection failed, timed out or dropped — try again later.
  const permanentCodes = new Set(['EENVELOPE', 'EMESSAGE', 'EAUTH']);
  return new DeliveryError(reason, !permanentCodes.has(e.code ?? ''));
}

/**
 * An HTTP SMS provider shaped like the common providers' messages API: POST form fields To, From,
 * Body with HTTP basic auth from the URL's user info; the answer's `sid` (or `id`) is the id that
 * status callbacks refer to. The URL's fragment names the provider (`…/messages#acme`).
 */
export function httpSmsProvider(url: string, senderId = 'Roster'): Provider {
  const parsed = new URL(url);
  const name = `sms:${parsed.hash.slice(1) || parsed.hostname}`;
  const auth = parsed.username ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}` : null;
  const endpoint = new URL(url);
  endpoint.username = '';
  endpoint.password = '';
  endpoint.hash = '';
  return {
    name,
    channel: 'sms',
    async send(m) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
          body: new URLSearchParams({ To: m.to, From: senderId, Body: m.body }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        throw new DeliveryError(`${name}: ${(error as Error).message}`, true);
      }
      const text = await response.text().catch(() => '');
      if (!response.ok) {
        throw new DeliveryError(`${name} answered ${response.status}: ${text.slice(0, 200)}`, response.status === 429 || response.status >= 500);
      }
      let id: string | null = null;
      try {
        const json = JSON.parse(text) as { sid?: unknown; id?: unknown };
        id = typeof json.sid === 'string' ? json.sid : typeof json.id === 'string' ? json.id : null;
      } catch {
        /* a provider that answers without an id gets no callbacks matched */
      }
      return { providerMessageId: id };
    },
    close: () => undefined,
  };
}

/**
 * The embedded default (no SMTP_URL / SMS_PROVIDER_URL): each message is a file under
 * `<data dir>/outbox-mail/`, an .eml a mail client opens or a .sms.txt, so a newcomer can read them.
 */
export function fileProvider(channel: Channel, dataDir: string, from: string): Provider {
  const dir = join(dataDir, 'outbox-mail');
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    name: `file:${channel}`,
    channel,
    async send(m) {
      mkdirSync(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (channel === 'sms') {
        const file = join(dir, `${stamp}-${m.id}.sms.txt`);
        writeFileSync(file, `To: ${m.to}\n\n${m.body}\n`, { mode: 0o600 });
        return { providerMessageId: file };
      }
      const info = await stream.sendMail({ from, to: m.to, subject: m.subject ?? '', text: m.body, ...(m.html ? { html: m.html } : {}), headers: { 'x-roster-message-id': m.id } });
      const file = join(dir, `${stamp}-${m.id}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      return { providerMessageId: file };
    },
    close: () => stream.close(),
  };
}

/** The ordered providers of each channel (B6), from SMTP_URL / SMS_PROVIDER_URL, or files. */
export function providersFrom(config: { smtpUrls: string[]; smsProviderUrls: string[]; dataDir: string; mailFrom: string }): Record<Channel, Provider[]> {
  return {
    email: config.smtpUrls.length ? config.smtpUrls.map((u) => smtpProvider(u, config.mailFrom)) : [fileProvider('email', config.dataDir, config.mailFrom)],
    sms: config.smsProviderUrls.length ? config.smsProviderUrls.map((u) => httpSmsProvider(u)) : [fileProvider('sms', config.dataDir, config.mailFrom)],
  };
}
