#!/usr/bin/env node
// `npm start`: the embedded stack (scripts/start-embedded.mjs), from dist/ when it is a build of
// today's sources (fast: what npm ci's build left, or the last `npm run build`), else from the
// TypeScript sources through tsx — never a rebuild before starting, never yesterday's code.
import { register } from 'node:module';
import { staleBecause } from './lib/build-stamp.mjs';

const stale = staleBecause();
if (stale) {
  console.error(`roster: running the TypeScript sources (${stale}); \`npm run build\` makes the next start faster`);
  // The same as `node --conditions=roster-source --import tsx`: workspace imports resolve to src/.
  register(new URL('./lib/source-condition.mjs', import.meta.url));
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
}
await import('./start-embedded.mjs');
