#!/usr/bin/env node
// `npm start`: the embedded footprint (rule 10). All four services in this one process, each with
// its own PGlite database under ROSTER_DATA_DIR (default .data/), sharing the in-memory bus.
// Nothing to install or start. Production runs one process per service: node services/<name>/dist/main.js
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBus } from '@roster/platform/bus/index';
import { loadOrCreateKeyEnv } from '@roster/platform/auth/dev-keys';
import { startService } from '@roster/platform/service';
import { stopOnSignals } from '@roster/platform/shutdown';
import { directoryService } from '@roster/directory';
import { identityService } from '@roster/identity';
import { schedulingService } from '@roster/scheduling';
import { notificationsService } from '@roster/notifications';

const started = performance.now();
const dataDir = process.env.ROSTER_DATA_DIR ?? '.data';
mkdirSync(dataDir, { recursive: true });

// The operator key provisions tenants (x-operator-key). Kept under the data folder so it survives restarts.
const keyFile = join(dataDir, 'operator-key');
const operatorKey = process.env.ROSTER_OPERATOR_KEY ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : randomBytes(24).toString('base64url'));
if (!process.env.ROSTER_OPERATOR_KEY) writeFileSync(keyFile, operatorKey, { mode: 0o600 });

// Token signing and secret sealing keys, made on first start and kept beside the operator key.
const keysFile = join(dataDir, 'keys.json');
const keyEnv = loadOrCreateKeyEnv(keysFile);

const bus = new MemoryBus();
// Links in e-mails lead to identity on the port it actually listens on (issue 16: IDENTITY_PORT=5101
// still linked to 4001), unless a public URL is given. With port 0 (any free port) nobody knows it
// before the start: set PUBLIC_URL then.
const identityPort = process.env.IDENTITY_PORT ?? String(identityService.defaultPort);
const publicUrl = process.env.PUBLIC_URL ?? process.env.NOTIFICATIONS_PUBLIC_URL ?? (identityPort !== '0' ? `http://localhost:${identityPort}` : undefined);
// Links to client requests (S3) lead to scheduling the same way.
const schedulingPort = process.env.SCHEDULING_PORT ?? String(schedulingService.defaultPort);
const schedulingUrl = process.env.SCHEDULING_PUBLIC_URL ?? (schedulingPort !== '0' ? `http://localhost:${schedulingPort}` : undefined);
const env = {
  ...keyEnv, ...process.env, ROSTER_DATA_DIR: dataDir, ROSTER_OPERATOR_KEY: operatorKey, BUS_URL: 'memory:',
  ...(publicUrl ? { PUBLIC_URL: publicUrl } : {}), ...(schedulingUrl ? { SCHEDULING_PUBLIC_URL: schedulingUrl } : {}),
};
const definitions = [identityService, directoryService, schedulingService, notificationsService];
// Started side by side: most of the start-up is each PGlite opening and migrating its database.
const results = await Promise.allSettled(definitions.map((definition) => {
  const port = process.env[`${definition.name.toUpperCase()}_PORT`] ?? String(definition.defaultPort);
  return startService(definition, { bus, env: { ...env, PORT: port } });
}));
const running = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
const failed = results.filter((r) => r.status === 'rejected');
if (failed.length > 0) {
  for (const f of failed) console.error(`Roster failed to start: ${f.reason instanceof Error ? f.reason.message : String(f.reason)}`);
  await Promise.allSettled(running.map((s) => s.stop()));
  process.exit(1);
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`
Roster is running (embedded: PGlite under ${dataDir}/, in-memory bus) — ready in ${seconds}s
${running.map((s) => `  ${s.name.padEnd(14)} ${s.url}`).join('\n')}
  operator key   ${operatorKey}   (header x-operator-key; stored in ${keyFile})
Try: curl ${running[1].url}/readyz
Stop with Ctrl-C.
`);

// Ctrl-C or SIGTERM: every service stops within SHUTDOWN_TIMEOUT_MS, a second signal exits at once.
const { stop } = stopOnSignals({
  stop: async () => void (await Promise.allSettled(running.map((s) => s.stop()))),
  timeoutMs: running[0].ctx.config.shutdownTimeoutMs,
});
// Started by a parent that went away without passing its signal on (a shell wrapper killed, a
// terminal closed): the stack is nobody's any more, so it stops too rather than keep the ports.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop('parent process gone');
}, 500).unref();
