#!/usr/bin/env node
// `npm run docs`: writes each service README's events block from the catalogue.
import { readFileSync, writeFileSync } from 'node:fs';
import { withEventsBlock } from '@roster/contracts/service-events';

const root = new URL('..', import.meta.url).pathname;
for (const service of ['identity', 'directory', 'scheduling', 'notifications']) {
  const path = `${root}services/${service}/README.md`;
  const before = readFileSync(path, 'utf8');
  const after = withEventsBlock(before, service);
  if (after !== before) writeFileSync(path, after);
  console.log(`${path.slice(root.length)}: ${after === before ? 'up to date' : 'events block written'}`);
}
