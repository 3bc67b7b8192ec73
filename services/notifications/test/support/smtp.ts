// A real SMTP server (smtp-server) for the notifications tests: it records what arrives, decoded
// as a reader sees it (mailparser: the plain-text and HTML parts, the subject decoded).
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** The HTML alternative, when the message has one. */
  html: string | null;
  headers: Record<string, string>;
  raw: string;
}

export interface TestSmtpServer {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** The next `count` RCPT TO commands are answered with this SMTP code (e.g. 451 or 550). */
  failNext(count: number, code: number): void;
  close(): Promise<void>;
}

/** A message as a reader sees it: subject, the plain-text part, the HTML part (mailparser), and the top-level headers. */
export async function parseMail(raw: string): Promise<Pick<ReceivedMail, 'subject' | 'text' | 'html' | 'headers'>> {
  const split = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n');
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const parsed = await simpleParser(raw);
  return { subject: parsed.subject ?? '', text: (parsed.text ?? '').replace(/\r\n/g, '\n'), html: parsed.html || null, headers };
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let failures: { count: number; code: number } = { count: 0, code: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (failures.count > 0) {
        failures.count--;
        const error = new Error(failures.code >= 500 ? 'mailbox unavailable' : 'try again later') as Error & { responseCode: number };
        error.responseCode = failures.code;
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        parseMail(raw).then((parsed) => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            ...parsed,
          });
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    failNext: (count, code) => void (failures = { count, code }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
