// Shared by the deployment checks: the repository's facts (services, the variables config.ts
// reads) and the tools (kubectl kustomize, the Kubernetes models) they are checked against.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The services, as the build knows them: every services/<name> with a src/main.ts. */
export const SERVICES = readdirSync(join(ROOT, 'services'))
  .filter((name) => existsSync(join(ROOT, 'services', name, 'src', 'main.ts')))
  .sort();

/** The keys of config.ts's zod schema: every variable a service reads (besides OTEL_*). */
export function configVariables(): string[] {
  const source = read('packages/platform/src/config.ts');
  const body = /const schema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (!body) throw new Error('packages/platform/src/config.ts: `const schema = z.object({ … });` not found');
  const names = [...body.matchAll(/^\s+([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1]!);
  if (names.length < 5) throw new Error(`config.ts: only ${names.length} variables parsed (${names.join(', ')})`);
  return names;
}

/** A variable a service reads: config.ts's, or a standard OpenTelemetry SDK one. */
export function isReadVariable(name: string, config = configVariables()): boolean {
  return config.includes(name) || name.startsWith('OTEL_');
}

/**
 * The file a command runs, when it is one of the image's entry points: `node
 * services/<name>/dist/(main|migrate).js`, which the build makes from src/(main|migrate).ts.
 * Returns a reason when the command points at anything else.
 */
export function entryPointProblem(command: unknown): string | undefined {
  if (!Array.isArray(command) || command.length !== 2 || command[0] !== 'node') return `expected [node, services/<name>/dist/<main|migrate>.js], got ${JSON.stringify(command)}`;
  const m = /^services\/([a-z-]+)\/dist\/(main|migrate)\.js$/.exec(String(command[1]));
  if (!m) return `${command[1]} is not services/<name>/dist/<main|migrate>.js`;
  const source = `services/${m[1]}/src/${m[2]}.ts`;
  return existsSync(join(ROOT, source)) ? undefined : `${command[1]}: the build makes no such file (${source} does not exist)`;
}

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown }; [k: string]: unknown };

/** `kubectl kustomize <dir>` (KUBECTL overrides the binary): fails, never skips, when kubectl is missing. */
export function kustomize(dir: string): K8sObject[] {
  const kubectl = process.env['KUBECTL'] ?? 'kubectl';
  const r = spawnSync(kubectl, ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`${kubectl} is not installed: the Kubernetes manifests cannot be rendered. Install kubectl >= 1.27 (it embeds kustomize v5; the overlays use components and labels); CI (.ci/run) installs it.`);
  }
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => {
    if (d.errors.length) throw new Error(`kubectl kustomize ${dir}: invalid YAML: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject;
  });
}
