// README: the Configuration table lists every variable config.ts reads (and nothing that no
// service reads), and the Deployment section names what exists.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { configVariables, isReadVariable, read, ROOT } from './support.js';

const readme = read('README.md');
const section = (title: string) => {
  const start = readme.indexOf(`\n${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const next = readme.slice(start + title.length + 2).search(/\n#{1,3} /);
  return readme.slice(start, next < 0 ? undefined : start + title.length + 2 + next);
};

describe('README', () => {
  it('the Configuration table lists every variable config.ts reads, and only variables a service reads', () => {
    const rows = [...section('### Configuration').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
    const config = configVariables();
    assert.deepEqual(config.filter((v) => !rows.includes(v)), [], 'variables missing from the table');
    assert.deepEqual(rows.filter((v) => !isReadVariable(v, config)), [], 'rows no service reads');
  });

  it('the Deployment section names the files and overlays that exist', () => {
    const deployment = section('## Deployment');
    for (const path of ['Dockerfile', 'docker-compose.yml', 'k8s/overlays/rabbitmq', 'k8s/overlays/kafka', 'k8s/overlays/production']) {
      assert.ok(deployment.includes(path), `the Deployment section mentions ${path}`);
      assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
    }
    assert.match(deployment, /COMPOSE_PROFILES=kafka/);
  });
});
