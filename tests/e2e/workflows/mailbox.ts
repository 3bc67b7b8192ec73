// A real SMTP server (the `smtp-server` package) that keeps what notifications sends, parsed, so
// that a workflow reads the credentials e-mail the way a person would.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from '../../../packages/platform/test/support/wait.js';

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

export interface Mailbox {
  url: string;
  mails: Mail[];
  /** The first mail to `to` (whose subject matches `subject`) that arrives, waiting for it. */
  waitFor(to: string, subject?: RegExp, timeoutMs?: number): Promise<Mail>;
  to(address: string): Mail[];
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
        });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const to = (address: string) => mails.filter((m) => m.to.includes(address.toLowerCase()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    to,
    waitFor: (address, subject, timeoutMs = 10_000) =>
      waitFor(`an e-mail to ${address}${subject ? ` about ${subject}` : ''}`, () => to(address).find((m) => !subject || subject.test(m.subject)) ?? null, timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
