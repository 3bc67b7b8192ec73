#!/usr/bin/env node
// `npm run build` (also run by npm ci through `prepare`): the Prisma clients, then every workspace's
// dist/ with tsc, then the stamp that lets `npm start` run the build instead of the sources.
import { spawnSync } from 'node:child_process';
import { markBuildComplete, markBuildStarted } from './lib/build-stamp.mjs';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
markBuildStarted();
run(process.execPath, ['scripts/prisma-generate.mjs']);
run('npm', ['run', 'build', '--workspaces', '--if-present', '--silent']);
markBuildComplete();
