import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PGliteOptions } from '@electric-sql/pglite';

/**
 * An empty PGlite cluster, made once and copied for every new PGlite database (the embedded
 * footprint's four, and the tests' in-memory ones). Creating a cluster runs initdb inside the WASM
 * Postgres, ~3–5 s of one core each, and the four of the embedded stack share one thread; loading
 * this copy takes a fraction of a second (bench/start measures both).
 *
 * Kept as a tar file under node_modules/.cache/roster (PGLITE_TEMPLATE overrides), named after the
 * PGlite version so an upgrade makes a new one; `npm ci` makes it (scripts/pglite-template.mjs)
 * and the first start makes it when it is missing.
 */
let template: Promise<Blob> | undefined;

export function pgliteTemplate(): Promise<Blob> {
  return (template ??= loadOrMake().catch((error) => {
    template = undefined;
    throw error;
  }));
}

export function pgliteTemplatePath(): string {
  if (process.env.PGLITE_TEMPLATE) return process.env.PGLITE_TEMPLATE;
  const dir = pglitePackageDir();
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  // node_modules/@electric-sql/pglite → node_modules/.cache/roster/
  return join(dirname(dirname(dir)), '.cache', 'roster', `pglite-${version}-cluster.tar`);
}

/** The package's folder: from its entry up to its package.json (which its exports do not list). */
function pglitePackageDir(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

async function loadOrMake(): Promise<Blob> {
  const path = pgliteTemplatePath();
  if (existsSync(path)) return new Blob([readFileSync(path)]);
  const { PGlite } = await import('@electric-sql/pglite');
  const fresh = await PGlite.create({ ...(await pgliteArtifacts()) });
  const blob = await fresh.dumpDataDir('none');
  await fresh.close();
  try {
    mkdirSync(dirname(path), { recursive: true });
    // Written aside and renamed: a process starting at the same moment never reads half a file.
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
    renameSync(partial, path);
  } catch {
    // a read-only install: the copy in memory still serves this process
  }
  return blob;
}

type Artifacts = Required<Pick<PGliteOptions, 'pgliteWasmModule' | 'initdbWasmModule' | 'fsBundle'>>;
// The WebAssembly global, which the ES lib this project compiles against does not declare.
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<Artifacts['pgliteWasmModule']> } }).WebAssembly;
let artifacts: Promise<Artifacts> | undefined;

/**
 * PGlite's WebAssembly modules, compiled once per process (off the main thread) and its file
 * bundle read once, for every PGlite the process opens: the embedded stack opens four, and each
 * would otherwise compile both modules again. Call early to overlap it with other start-up work.
 */
export function pgliteArtifacts(): Promise<Artifacts> {
  return (artifacts ??= (async () => {
    const dir = pglitePackageDir();
    const [pgliteWasmModule, initdbWasmModule, bundle] = await Promise.all([
      readFile(join(dir, 'dist', 'pglite.wasm')).then((b) => wasm.compile(b)),
      readFile(join(dir, 'dist', 'initdb.wasm')).then((b) => wasm.compile(b)),
      readFile(join(dir, 'dist', 'pglite.data')),
    ]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([bundle]) };
  })());
}
