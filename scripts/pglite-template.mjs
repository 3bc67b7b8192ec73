#!/usr/bin/env node
// Makes the empty PGlite cluster that every new embedded database starts from (run by `npm ci`
// through `prepare`, so that the first `npm start` runs no initdb; see packages/platform/src/db/pglite-template.ts).
import { pgliteTemplate, pgliteTemplatePath } from '@roster/platform/db/pglite-template';

const started = performance.now();
await pgliteTemplate();
console.log(`PGlite template cluster ready in ${Math.round(performance.now() - started)} ms: ${pgliteTemplatePath()}`);
