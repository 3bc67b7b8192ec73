// A local stand-in for an HTTP SMS provider (the one thing outside Roster that gets a stand-in):
// it accepts the messages API's form posts (To, From, Body) and keeps them.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../../packages/platform/test/support/wait.js';

export interface Sms {
  to: string;
  body: string;
}

export interface Phones {
  url: string;
  messages: Sms[];
  waitFor(to: string, timeoutMs?: number): Promise<Sms>;
  close(): Promise<void>;
}

const digits = (phone: string) => phone.replace(/[^0-9]/g, '');

export async function startSmsProvider(): Promise<Phones> {
  const messages: Sms[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(raw);
      messages.push({ to: form.get('To') ?? '', body: form.get('Body') ?? '' });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SM${randomUUID().replaceAll('-', '')}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/messages#standin`,
    messages,
    waitFor: (to, timeoutMs = 10_000) => waitFor(`an SMS to ${to}`, () => messages.find((m) => digits(m.to).endsWith(digits(to).slice(-9))) ?? null, timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
