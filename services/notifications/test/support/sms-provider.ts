// A local stand-in for an HTTP SMS provider's messages API (the one outside thing the tests mock):
// POST form fields To, From, Body with basic auth; answers {sid, status}.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSms {
  to: string;
  from: string;
  body: string;
  sid: string;
  authorization: string | undefined;
}

export interface SmsStandIn {
  url(user: string, token: string, name: string): string;
  received: ReceivedSms[];
  /** Answer every request with this status (e.g. 503) until set back to null. */
  failWith: number | null;
  close(): Promise<void>;
}

export async function startSmsStandIn(): Promise<SmsStandIn> {
  const received: ReceivedSms[] = [];
  const standIn: SmsStandIn = {
    received,
    failWith: null,
    url: (user, token, name) => `http://${encodeURIComponent(user)}:${encodeURIComponent(token)}@127.0.0.1:${port}/2010-04-01/Messages.json#${name}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (standIn.failWith) {
        res.writeHead(standIn.failWith, { 'content-type': 'application/json' }).end('{"message":"unavailable"}');
        return;
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const sid = `SM${randomUUID().replaceAll('-', '')}`;
      received.push({ to: form.get('To') ?? '', from: form.get('From') ?? '', body: form.get('Body') ?? '', sid, authorization: req.headers.authorization });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid, status: 'queued' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return standIn;
}
