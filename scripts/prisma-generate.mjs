#!/usr/bin/env node
// Generates each service's Prisma client offline. `prisma generate` wants the native schema
// engine only to exist (it is not used for generation and cannot be downloaded here), so
// PRISMA_SCHEMA_ENGINE_BINARY points at a placeholder file unless one is configured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const services = ['directory', 'identity', 'scheduling', 'notifications'].filter((s) => existsSync(join(root, 'services', s, 'prisma', 'schema.prisma')))
  // `node scripts/prisma-generate.mjs identity` generates one service's client only.
  .filter((s) => process.argv.length <= 2 || process.argv.slice(2).includes(s));
let engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
if (!engine) {
  const dir = join(tmpdir(), 'roster-prisma');
  mkdirSync(dir, { recursive: true });
  engine = join(dir, 'schema-engine-placeholder');
  if (!existsSync(engine)) writeFileSync(engine, '#!/bin/sh\necho "the schema engine is not used by prisma generate" >&2\nexit 1\n', { mode: 0o755 });
}
const prisma = join(root, 'node_modules', 'prisma', 'build', 'index.js');
for (const service of services) {
  const r = spawnSync(process.execPath, [prisma, 'generate'], {
    cwd: join(root, 'services', service),
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`prisma generate failed for ${service}`);
    process.exit(1);
  }
  console.log(`prisma client generated for ${service}`);
}
