import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from '@jest/globals';
import { withEventsBlock } from '@roster/contracts/service-events';

/*
 * The repository explains itself (issue 14 item 5): every capability code, cascade row and
 * architecture rule cited in a comment, test, README or script is defined in docs/design.md; every
 * service has a README with what it owns, its endpoints, its events and its settings; relative links
 * in the READMEs lead somewhere.
 */
const root = new URL('../..', import.meta.url).pathname;
const SERVICES = ['identity', 'directory', 'scheduling', 'notifications'] as const;

/** The repository's own text files (tracked or new), without generated code, data and lock files. */
function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'packages', 'services', 'tests', 'bench', 'scripts', 'docs', 'README.md', 'k8s', 'deploy'], { cwd: root, encoding: 'utf8' });
  return listed.split('\n').filter((f) => f && /\.(ts|mjs|js|md|ya?ml|sh)$/.test(f) && !/node_modules|\/dist\/|\/generated\//.test(f) && existsSync(join(root, f)));
}

const design = readFileSync(join(root, 'docs/design.md'), 'utf8');
/** Codes defined in docs/design.md: the first cell of a table row, or a numbered rule. */
const defined = new Set([
  ...[...design.matchAll(/^\| ([LPSNBC]\d{1,2}) \|/gm)].map((m) => m[1]!),
  ...[...design.matchAll(/^(\d{1,2})\. \*\*/gm)].map((m) => `rule ${m[1]}`),
]);

describe('docs/design.md defines every code the repository cites', () => {
  it('capabilities, cascade rows and rules', () => {
    const cited = new Map<string, string>();
    for (const file of sourceFiles()) {
      const text = readFileSync(join(root, file), 'utf8');
      // A code is a capital, a number and no dash after it (test fixtures such as 'S13-deep3' are not codes).
      for (const m of text.matchAll(/\b([LPSNBC]\d{1,2})\b(?!-)/g)) if (!cited.has(m[1]!)) cited.set(m[1]!, file);
      for (const m of text.matchAll(/\brules? (\d{1,2})\b/g)) if (!cited.has(`rule ${m[1]}`)) cited.set(`rule ${m[1]}`, file);
    }
    assert.ok(cited.size > 40, `found ${cited.size} cited codes: the scan itself works`);
    const undefinedCodes = [...cited].filter(([code]) => !defined.has(code)).map(([code, file]) => `${code} (cited in ${file})`);
    assert.deepEqual(undefinedCodes, [], 'cited but not defined in docs/design.md');
  });
});

describe('READMEs', () => {
  for (const service of SERVICES) {
    it(`services/${service} has a README with what it owns, its endpoints, events and settings`, () => {
      const path = join(root, 'services', service, 'README.md');
      assert.ok(existsSync(path), `${path} exists`);
      const text = readFileSync(path, 'utf8');
      for (const section of ['## What it owns', '## Endpoints', '## Events', '## Settings']) assert.ok(text.includes(section), `${service} README has "${section}"`);
    });
  }

  it('each service README lists the events it publishes and consumes as the catalogue says (npm run docs)', () => {
    for (const service of SERVICES) {
      const readme = readFileSync(join(root, 'services', service, 'README.md'), 'utf8');
      assert.equal(readme, withEventsBlock(readme, service), `services/${service}/README.md: run npm run docs`);
    }
  });

  it('relative links in the READMEs and docs lead to files that exist', () => {
    const docs = sourceFiles().filter((f) => f.endsWith('.md'));
    const broken: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(join(root, doc), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // http:, mailto: …
        if (!existsSync(join(root, dirname(doc), target))) broken.push(`${doc} → ${target}`);
      }
      // Paths named in backticks as notes to read (`src/…/README.md` and the like).
      for (const m of text.matchAll(/`((?:src|docs|services|packages)\/[\w./-]+\.md)`/g)) {
        if (!existsSync(join(root, dirname(doc), m[1]!)) && !existsSync(join(root, m[1]!))) broken.push(`${doc} → ${m[1]}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
