/**
 * Writes `packages/contracts/asyncapi.yaml` from the contracts (docs/design.md, rule 4).
 *
 *   npm run asyncapi                  regenerate the file
 *   npm run asyncapi -- --check       exit 1 when the committed file is out of date (CI)
 *   ... --out <path>                  another file (tests)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Document } from 'yaml';
import { buildAsyncApiDocument } from '../src/asyncapi.js';

export const ASYNCAPI_PATH = fileURLToPath(new URL('../asyncapi.yaml', import.meta.url));

export const OUT_OF_DATE_MESSAGE = 'asyncapi.yaml is out of date: run npm run asyncapi';

/** The exact text of `asyncapi.yaml`. */
export function renderAsyncApiYaml(): string {
  const doc = new Document(buildAsyncApiDocument(), { aliasDuplicateObjects: false });
  doc.commentBefore = ' Generated from packages/contracts by `npm run asyncapi`. Do not edit by hand.';
  return doc.toString({ lineWidth: 0 });
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const outIndex = argv.indexOf('--out');
  const path = outIndex >= 0 && argv[outIndex + 1] !== undefined ? argv[outIndex + 1]! : ASYNCAPI_PATH;
  const text = renderAsyncApiYaml();
  if (check) {
    if (readOrNull(path) !== text) {
      console.error(OUT_OF_DATE_MESSAGE);
      return 1;
    }
    console.log(`${path} is up to date`);
    return 0;
  }
  if (readOrNull(path) === text) {
    console.log(`${path} is up to date`);
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
