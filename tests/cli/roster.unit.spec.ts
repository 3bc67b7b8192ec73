import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from '@jest/globals';

/*
 * The roster command as an SRE meets it (issue 14 item 4, B4): help per command with environment and
 * exit codes, --version, one clear line and a non-zero exit for every mistake, from any folder of
 * the repository through npm exec. No server is needed: the failures are the point.
 */
const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

async function roster(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  try {
    const { stdout, stderr } = await run('npm', ['exec', '--offline', '--', 'roster', ...args], {
      cwd: options.cwd ?? root, env: { ...process.env, ROSTER_TOKEN: '', ROSTER_OPERATOR_KEY: '', BUS_URL: '', ...options.env }, timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The line roster printed for an error (npm adds its own lines after a non-zero exit). */
const rosterLine = (stderr: string) => stderr.split('\n').find((l) => l.startsWith('roster: ')) ?? stderr;

describe('roster, the SRE command line', () => {
  let directory: Server;
  let directoryUrl: string;
  /** A port nothing listens on (fetch refuses to even try well-known ports such as 1). */
  let closedPort: number;
  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    // A directory that refuses every token, as the real one does for a bad one.
    directory = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'invalid token' }));
    });
    await new Promise<void>((r) => directory.listen(0, '127.0.0.1', r));
    directoryUrl = `http://127.0.0.1:${(directory.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => directory.close(r));
  });

  it('prints its version, from the root and from folders below it', async () => {
    const { version } = JSON.parse((await import('node:fs')).readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
    for (const cwd of [root, `${root}/services/identity`, `${root}/tests/e2e`]) {
      const r = await roster(['--version'], { cwd });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `roster ${version}`, `from ${cwd}`);
    }
  });

  it('has help per command, with the environment variables and exit codes', async () => {
    const top = await roster(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /trace <operationId>/);
    assert.match(top.stdout, /exit codes/);
    const trace = await roster(['trace', '--help']);
    assert.equal(trace.code, 0);
    for (const v of ['ROSTER_TOKEN', 'ROSTER_OPERATOR_KEY', 'ROSTER_TENANT', 'ROSTER_DIRECTORY_URL', 'exit codes: 0 completed, 3 pending, 4 failed']) assert.ok(trace.stdout.includes(v), `trace --help names ${v}`);
    const dead = await roster(['help', 'dead-letters']);
    assert.equal(dead.code, 0);
    for (const v of ['BUS_URL', 'BUS_NAMESPACE', 'exit codes', 'identity-revocations']) assert.ok(dead.stdout.includes(v), `dead-letters help names ${v}`);
  });

  it('says in one line what is wrong, with exit 2 for a usage mistake and 1 for the world', async () => {
    const cases: Array<[string[], number, RegExp, Record<string, string>?]> = [
      [['frobnicate'], 2, /^roster: unknown command "frobnicate"$/],
      [['dead-letters', 'list', 'nosuchservice', '--bus', 'amqp://127.0.0.1:1'], 2, /^roster: unknown service "nosuchservice" \(one of: identity, directory/],
      [['dead-letters', 'list', 'identity'], 1, /^roster: dead letters live on a broker: give --bus/],
      [['dead-letters', 'list', 'identity', '--bus', 'amqp://127.0.0.1:1'], 1, /^roster: cannot reach the bus at amqp:\/\/127\.0\.0\.1:1: ECONNREFUSED$/],
      [['dead-letters', 'list', 'identity', '--bus', 'kafka://127.0.0.1:1'], 1, /^roster: cannot reach the bus at kafka:\/\/127\.0\.0\.1:1: ECONNREFUSED$/],
      [['trace', 'op-1', '--url', `http://127.0.0.1:${closedPort}`], 1, new RegExp(`^roster: cannot reach the directory at http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED$`), { ROSTER_TOKEN: 'a-token' }],
      [['trace', 'op-1'], 2, /^roster: no credentials: set ROSTER_TOKEN/],
    ];
    for (const [args, code, line, env] of cases) {
      const r = await roster(args, { env: env ?? {} });
      assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(rosterLine(r.stderr), line, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: no stack trace`);
    }
    const refused = await roster(['trace', 'op-1', '--url', directoryUrl], { env: { ROSTER_TOKEN: 'a-bad-token' } });
    assert.equal(refused.code, 1);
    assert.match(rosterLine(refused.stderr), /^roster: the directory refused the credentials \(401\): invalid token/);
  });
});
