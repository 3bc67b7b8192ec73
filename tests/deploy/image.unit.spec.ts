// Dockerfile: there is no Docker engine here, so the image is checked as text against what the
// build produces and what the services need at run time.
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { entryPointProblem, read, SERVICES } from './support.js';

const dockerfile = read('Dockerfile');
/** The instructions of each stage, by stage name. */
const stages = new Map<string, string[]>();
{
  let current: string[] = [];
  for (const line of dockerfile.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'))) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stages.set(from[1]!, (current = []));
    current.push(line.trim());
  }
}
const stage = (name: string) => {
  const s = stages.get(name);
  assert.ok(s, `Dockerfile has a "${name}" stage`);
  return s;
};
const workspaces: string[] = JSON.parse(read('package.json')).workspaces;

describe('Dockerfile', () => {
  it('builds the whole workspace: every workspace manifest, npm ci, npm run build', () => {
    const build = stage('build').join('\n');
    for (const w of workspaces) assert.match(build, new RegExp(`COPY ${w}/package.json ${w}/`), `${w}/package.json (npm ci checks the lockfile against every workspace)`);
    assert.match(build, /RUN npm ci\b/);
    assert.match(build, /RUN npm run build\b/);
  });

  it('the runtime stage has production dependencies only, runs as a non-root user, and its CMD is an entry point', () => {
    const last = [...stages.keys()].at(-1)!;
    const runtime = stage(last);
    const deps = stage('deps').join('\n');
    assert.match(deps, /npm ci --omit=dev --omit=optional/, 'devOptional packages (prisma, typescript) stay out too');
    for (const w of workspaces) assert.match(deps, new RegExp(`${w}/package.json`));
    const user = runtime.find((l) => l.startsWith('USER '));
    assert.ok(user && !/^USER\s+(root|0)(:|$)/.test(user), 'USER is not root');
    assert.match(user, /^USER \d+/, 'a numeric user, which runAsNonRoot can verify');
    const cmd = runtime.find((l) => l.startsWith('CMD '));
    assert.ok(cmd);
    assert.equal(entryPointProblem(JSON.parse(cmd.slice(4))), undefined);
    assert.ok(!runtime.some((l) => /COPY --from=build \/app\/node_modules/.test(l)), 'node_modules come from the production-only install');
  });

  it('the production install leaves the dev tools out (prisma, typescript)', () => {
    // What `npm ci --omit=dev --omit=optional` installs: lockfile entries flagged none of these.
    const packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean }> = JSON.parse(read('package-lock.json')).packages;
    const installed = Object.keys(packages).filter((k) => !packages[k]!.dev && !packages[k]!.devOptional && !packages[k]!.optional);
    for (const tool of ['node_modules/prisma', 'node_modules/typescript', 'node_modules/tsx', 'node_modules/@prisma/studio-core']) assert.ok(!installed.includes(tool), tool);
    for (const runtime of ['node_modules/@prisma/client', 'node_modules/@prisma/adapter-pg', 'node_modules/pg', 'node_modules/amqplib', 'node_modules/kafkajs']) assert.ok(installed.includes(runtime), runtime);
  });

  it('the image holds the platform\'s own migrations (outbox, inbox, token_not_before, person_projection), where its code looks for them', () => {
    const runtime = stage([...stages.keys()].at(-1)!).join('\n');
    assert.match(read('packages/platform/src/db/platform-migrations.ts'), /new URL\('\.\.\/\.\.\/migrations\/messaging', import\.meta\.url\)/);
    assert.match(runtime, /COPY --from=build \/app\/packages\/platform\/migrations packages\/platform\/migrations/);
  });

  for (const service of SERVICES) {
    it(`${service}: the image holds its built code (with the generated Prisma client) and its migrations`, () => {
      const runtime = stage([...stages.keys()].at(-1)!).join('\n');
      assert.match(runtime, new RegExp(`COPY --from=build /app/services/${service}/dist services/${service}/dist`));
      // services/<name>/src/service.ts finds them at ../prisma/migrations relative to dist/.
      assert.match(read(`services/${service}/src/service.ts`), /new URL\('\.\.\/prisma\/migrations', import\.meta\.url\)/);
      assert.match(runtime, new RegExp(`COPY --from=build /app/services/${service}/prisma/migrations services/${service}/prisma/migrations`));
      // The generated client is compiled into dist/db/generated: it must be under src/ for tsc.
      assert.match(read(`services/${service}/prisma/schema.prisma`), /output\s*=\s*"\.\.\/src\/db\/generated"/);
    });
  }

  it('copies the built packages, and .dockerignore keeps host installs and builds out', () => {
    const runtime = stage([...stages.keys()].at(-1)!).join('\n');
    // Every package that builds a dist/ (packages/cli only links the SRE's command: no build, not in the image).
    const built = workspaces.filter((w) => w.startsWith('packages/') && JSON.parse(read(`${w}/package.json`)).scripts?.build);
    assert.ok(built.length >= 2, `${built.join(', ')} build`);
    for (const pkg of built) assert.match(runtime, new RegExp(`COPY --from=build /app/${pkg}/dist ${pkg}/dist`));
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', 'services/*/src/db/generated', '.data']) assert.ok(ignore.includes(entry), entry);
  });
});
