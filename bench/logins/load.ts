// The logins benchmark's load generator, in its own process as a real client would be: it keeps
// its HTTP parsing and its CPU out of identity's process (the service's instrumentation would also
// trace an in-process client's calls). One JSON line in per run, one JSON line out.
//
//   in:  {"url": "...", "users": ["..."], "password": "...", "concurrency": 4, "seconds": 8}
//   out: {"ops": 1234, "perSecond": 154.2, "p50": 25.1, "p99": 40.3, "cpuMs": 310}
import http from 'node:http';
import { createInterface } from 'node:readline';
import { percentile } from '../stats.js';

interface Run { url: string; users: string[]; password: string; concurrency: number; seconds: number }

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function postLogin(target: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      agent, host: target.hostname, port: target.port, path: '/sessions', method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run({ url, users, password, concurrency, seconds }: Run) {
  const target = new URL(url);
  const bodies = users.map((username) => JSON.stringify({ username, password }));
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    const body = bodies[worker % bodies.length]!;
    while (performance.now() < deadline) {
      const t = performance.now();
      const status = await postLogin(target, body);
      if (status !== 201) throw new Error(`login failed: HTTP ${status}`);
      latencies.push(performance.now() - t);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { ops: latencies.length, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMs: (used.user + used.system) / 1000 };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  try {
    process.stdout.write(`${JSON.stringify(await run(JSON.parse(line) as Run))}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
  }
}
