// Whether dist/ holds a build of today's sources: `npm run build` (and npm ci's prepare) writes a
// stamp when every workspace compiled, and removes it when a build starts; the build is current
// while no source, schema or build setting is newer than the stamp.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
export const STAMP = join(root, 'node_modules', '.cache', 'roster', 'build-stamp');
const WORKSPACES = ['packages/contracts', 'packages/platform', 'services/directory', 'services/identity', 'services/scheduling', 'services/notifications'];

export function markBuildStarted() {
  rmSync(STAMP, { force: true });
}

export function markBuildComplete() {
  mkdirSync(join(STAMP, '..'), { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

function* inputs(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* inputs(path);
    else yield path;
  }
}

/** The first input newer than the last complete build (or why there is no build), else null. */
export function staleBecause() {
  if (!existsSync(STAMP)) return 'no complete build (npm run build)';
  const built = statSync(STAMP).mtimeMs;
  for (const ws of WORKSPACES) {
    const base = join(root, ws);
    const files = [...inputs(join(base, 'src')), join(base, 'package.json'), join(base, 'tsconfig.build.json')];
    if (existsSync(join(base, 'prisma', 'schema.prisma'))) files.push(join(base, 'prisma', 'schema.prisma'));
    for (const f of files) if (existsSync(f) && statSync(f).mtimeMs > built) return `${f.slice(root.length)} changed since the last build`;
  }
  if (statSync(join(root, 'tsconfig.base.json')).mtimeMs > built) return 'tsconfig.base.json changed since the last build';
  return null;
}
