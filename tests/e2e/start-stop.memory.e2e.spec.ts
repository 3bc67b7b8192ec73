import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';

/*
 * `npm start` stops as people stop it (issue 14): Ctrl-C, SIGTERM to the node process, SIGTERM to
 * npm's process; each within SHUTDOWN_TIMEOUT_MS whatever happened before (the mail server frozen
 * with a message in flight, the reader of stdout gone), and a second signal exits at once.
 */

const root = new URL('../..', import.meta.url).pathname;
const SHUTDOWN_TIMEOUT_MS = 3_000;

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

type MailServer = { url: string; connections: () => number; close: () => Promise<void> };

/** A stand-in mail server that treats each connection with `talk` (destroyed sockets end its timers). */
async function mailServer(talk: (socket: Socket) => void = () => undefined): Promise<MailServer> {
  const sockets = new Set<Socket>();
  let seen = 0;
  const server = createServer((socket) => {
    seen++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    talk(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An SMTP server that accepts connections and never says a word: a send to it hangs. */
const frozenSmtp = () => mailServer();

/** An SMTP server that greets, then answers EHLO with a `250-` line every 5 s and never finishes (issue 15). */
const slowSmtp = () => mailServer((socket) => {
  socket.write('220 slow.example ESMTP\r\n');
  socket.once('data', () => {
    const timer = setInterval(() => socket.write('250-slow.example still thinking\r\n'), 5_000);
    socket.on('close', () => clearInterval(timer));
  });
});

interface Stack {
  proc: ChildProcess;
  /** The node process running the stack (npm's child when started through npm). */
  nodePid: number;
  urls: Record<string, string>;
  operatorKey: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  dataDir: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthy = async (url: string) => (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) || undefined;

async function start(how: 'npm' | 'node', env: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), 'roster-start-'))): Promise<Stack> {
  const [identity, directory, scheduling, notifications] = await freePorts(4);
  const portEnv = { IDENTITY_PORT: String(identity), DIRECTORY_PORT: String(directory), SCHEDULING_PORT: String(scheduling), NOTIFICATIONS_PORT: String(notifications) };
  const operatorKey = 'start-stop-operator-key-0123456789';
  const proc = how === 'npm'
    ? spawn('npm', ['start', '--silent'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...portEnv, ROSTER_DATA_DIR: dataDir, ROSTER_OPERATOR_KEY: operatorKey, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), ...env } })
    : spawn(process.execPath, ['--conditions=roster-source', '--import', 'tsx', 'scripts/start-embedded.mjs'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...portEnv, ROSTER_DATA_DIR: dataDir, ROSTER_OPERATOR_KEY: operatorKey, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), ...env } });
  let output = '';
  proc.stdout!.on('data', (c) => void (output += c));
  proc.stderr!.on('data', (c) => void (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const urls = { identity: `http://127.0.0.1:${identity}`, directory: `http://127.0.0.1:${directory}`, scheduling: `http://127.0.0.1:${scheduling}`, notifications: `http://127.0.0.1:${notifications}` };
  await waitFor('the four services', async () => {
    if (proc.exitCode !== null) throw new Error(`the stack exited while starting:\n${output}`);
    for (const url of Object.values(urls)) if (!(await healthy(url))) return undefined;
    return true;
  }, 120_000);
  const nodePid = how === 'node' ? proc.pid! : await childNodePid(proc.pid!);
  return { proc, nodePid, urls, operatorKey, exited, dataDir };
}

async function childNodePid(parent: number): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).trim().split('\n').map(Number);
  assert.equal(out.length, 1, `npm start has one child (the stack), not ${out.length}`);
  return out[0]!;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function assertAllDown(stack: Stack, since: number, budgetMs: number, label = 'a stop') {
  const exit = await Promise.race([stack.exited, new Promise<null>((r) => setTimeout(() => r(null), budgetMs + 5_000))]);
  assert.ok(exit, `the stack had not exited ${budgetMs + 5_000} ms after the signal`);
  await waitFor('the node process to be gone', () => !alive(stack.nodePid) || undefined, 5_000);
  const took = Date.now() - since;
  assert.ok(took <= budgetMs + 1_000, `stopped in ${took} ms, SHUTDOWN_TIMEOUT_MS is ${budgetMs}`);
  console.log(`${label}: stopped in ${took} ms (SHUTDOWN_TIMEOUT_MS ${budgetMs})`);
  for (const url of Object.values(stack.urls)) assert.equal(await healthy(url), undefined, `${url} no longer answers`);
  return exit;
}

/** Puts a credentials e-mail on its way: a tenant and its owner's login with a temporary password (L1, L4). */
async function sendAnEmail(stack: Stack) {
  const tenant = await fetch(`${stack.urls.directory}/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-operator-key': stack.operatorKey },
    body: JSON.stringify({ name: 'Stop Test Pets', owner: { firstName: 'Olga', lastName: 'Owner', email: 'olga@stop.example' } }),
  });
  assert.equal(tenant.status, 201, await tenant.clone().text());
  const { ownerId, tenantId } = (await tenant.json()) as { ownerId: string; tenantId: string };
  await waitFor('identity to know the owner', async () => {
    const login = await fetch(`${stack.urls.identity}/logins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': stack.operatorKey, 'x-roster-tenant': tenantId },
      body: JSON.stringify({ personId: ownerId, username: `olga-${Date.now()}` }),
    });
    return login.status === 201 || undefined;
  }, 20_000);
}

describe('npm start stops on a signal within SHUTDOWN_TIMEOUT_MS', () => {
  const dirs: string[] = [];
  const stacks: Stack[] = [];
  let smtp: MailServer;
  let slow: MailServer;
  beforeAll(async () => {
    smtp = await frozenSmtp();
    slow = await slowSmtp();
  });
  afterAll(async () => {
    // A stack a failed test left running is killed, so that the next run finds its ports free.
    for (const s of stacks) for (const pid of [s.nodePid, s.proc.pid!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await smtp.close();
    await slow.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const track = (s: Stack) => (dirs.push(s.dataDir), stacks.push(s), s);

  it('Ctrl-C (SIGINT to the terminal\'s process group) stops npm and the stack', async () => {
    const stack = track(await start('npm'));
    const at = Date.now();
    process.kill(-stack.proc.pid!, 'SIGINT');
    await assertAllDown(stack, at, SHUTDOWN_TIMEOUT_MS);
  });

  it('SIGTERM to npm start\'s process reaches the stack', async () => {
    const stack = track(await start('npm'));
    const at = Date.now();
    process.kill(stack.proc.pid!, 'SIGTERM');
    await assertAllDown(stack, at, SHUTDOWN_TIMEOUT_MS);
  });

  it('SIGTERM to the node process, with the mail server frozen and a message in flight: out by the deadline', async () => {
    const stack = track(await start('npm', { SMTP_URL: smtp.url }));
    const before = smtp.connections();
    await sendAnEmail(stack);
    await waitFor('the credentials e-mail to reach the frozen mail server', () => smtp.connections() > before || undefined, 20_000);
    const at = Date.now();
    process.kill(stack.nodePid, 'SIGTERM');
    await assertAllDown(stack, at, SHUTDOWN_TIMEOUT_MS, 'a frozen mail server');
  });

  it('SIGTERM to the node process, with a slow mail server (a 250- line every 5 s) mid-conversation: out by the deadline', async () => {
    const stack = track(await start('node', { SMTP_URL: slow.url }));
    const before = slow.connections();
    await sendAnEmail(stack);
    await waitFor('the credentials e-mail to reach the slow mail server', () => slow.connections() > before || undefined, 20_000);
    await new Promise((r) => setTimeout(r, 6_000)); // at least one slow line received
    const at = Date.now();
    process.kill(stack.nodePid, 'SIGTERM');
    await assertAllDown(stack, at, SHUTDOWN_TIMEOUT_MS, 'a slow mail server');
  });

  it('a second signal exits at once, while the first stop is still waiting', async () => {
    const stack = track(await start('node', { SMTP_URL: smtp.url, SHUTDOWN_TIMEOUT_MS: '60000' }));
    const before = smtp.connections();
    await sendAnEmail(stack);
    await waitFor('the credentials e-mail to reach the frozen mail server', () => smtp.connections() > before || undefined, 20_000);
    process.kill(stack.nodePid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(alive(stack.nodePid), 'still stopping (the frozen send holds it)');
    const at = Date.now();
    process.kill(stack.nodePid, 'SIGTERM');
    const exit = await Promise.race([stack.exited, new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
    assert.ok(exit, 'exited within 3 s of the second signal');
    assert.equal(exit.code, 143);
    assert.ok(exit.at - at < 3_000);
  });

  it('e-mails link to identity on the port it listens on, not 4001 (issue 16)', async () => {
    const stack = track(await start('node'));
    const identityPort = new URL(stack.urls.identity!).port;
    assert.notEqual(identityPort, '4001');
    await sendAnEmail(stack);
    const mail = await waitFor('the credentials e-mail in the outbox folder', () => {
      const dir = join(stack.dataDir, 'outbox-mail');
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
      return files.length > 0 ? readFileSync(join(dir, files[0]!), 'utf8') : undefined;
    }, 20_000);
    assert.match(mail, new RegExp(`http://localhost:${identityPort}\\b`));
    assert.doesNotMatch(mail, /localhost:4001/);
    process.kill(stack.nodePid, 'SIGTERM');
    await stack.exited;
  });

  it('with the reader of its output gone (stdout closed), SIGTERM still stops it', async () => {
    const stack = track(await start('node', { LOG_LEVEL: 'info', NODE_ENV: 'development' }));
    stack.proc.stdout!.destroy();
    stack.proc.stderr!.destroy();
    // Something to log once the pipe is gone.
    await fetch(`${stack.urls.directory}/people`).catch(() => undefined);
    const at = Date.now();
    process.kill(stack.nodePid, 'SIGTERM');
    const exit = await assertAllDown(stack, at, SHUTDOWN_TIMEOUT_MS);
    assert.equal(exit.code, 0, 'a clean stop');
  });
});
