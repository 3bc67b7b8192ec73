#!/usr/bin/env node
// npm links this into node_modules/.bin/roster (a workspace's bin is linked; the root package's own
// is not, which is why `npx roster` outside the root went to the registry).
import '../../../scripts/roster.mjs';
