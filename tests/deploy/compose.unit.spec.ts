// docker-compose.yml: valid against the Compose specification (dclint ships the compose-spec
// JSON schema and validates against it), and in agreement with the code: entry points the build
// produces, variables the services read, a migration one-shot before each service, one switch
// between RabbitMQ and Kafka.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { DCLinter } from 'dclint';
import { parse } from 'yaml';
import { configVariables, entryPointProblem, isReadVariable, read, ROOT, SERVICES } from './support.js';

// The schema check always runs; of the style rules, those that catch mistakes are errors, the
// ordering ones are off (the file is ordered by role: infrastructure, migrations, services), and
// build+image together is intended: eight entries share the one image (one Dockerfile, cached).
const linter = new DCLinter({
  quiet: true,
  debug: false,
  exclude: [],
  rules: {
    'no-build-and-image': 0,
    'no-duplicate-container-names': 2,
    'no-duplicate-exported-ports': 2,
    'no-quotes-in-volumes': 2,
    'no-unbound-port-interfaces': 2,
    'no-version-field': 2,
    'require-project-name-field': 2,
    'require-quotes-in-ports': [2, { quoteType: 'double' }],
    'service-image-require-explicit-tag': 2,
    'service-container-name-regex': 2,
    'service-dependencies-alphabetical-order': 0,
    'service-keys-order': 0,
    'service-ports-alphabetical-order': 0,
    'services-alphabetical-order': 0,
    'top-level-properties-order': 0,
  },
});
interface LintMessage { type: string; rule: string; line: number; message: string }
const lint = (path: string): string[] =>
  (linter.lintFiles([path], false) as { messages: LintMessage[] }[]).flatMap((r) => r.messages).map((m) => `${m.type} ${m.rule} line ${m.line}: ${m.message}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the compose file is plain YAML data
type Any = any;
const compose: Any = parse(read('docker-compose.yml'), { merge: true });
const services: Record<string, Any> = compose.services;
const envFile = (path: string) =>
  Object.fromEntries(read(path).split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
/** env_file paths with COMPOSE_PROFILES as the switch sets it. */
const envFiles = (service: Any, profile: string): string[] =>
  (service.env_file ?? []).map((f: string) => f.replace(/\$\{COMPOSE_PROFILES:-[^}]*\}/, profile));

describe('docker-compose.yml', () => {
  it('validates against the Compose specification and the lint rules', () => {
    assert.deepEqual(lint(join(ROOT, 'docker-compose.yml')), []);
  });

  it('the validation rejects an unknown key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-compose-'));
    try {
      const bad = join(dir, 'docker-compose.yml');
      writeFileSync(bad, read('docker-compose.yml').replace(/^( {4})restart: unless-stopped$/m, '$1restart: unless-stopped\n$1restart_policy: always'));
      assert.match(lint(bad).join('\n'), /invalid-schema.*additional properties/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has Postgres with one database per service, RabbitMQ with management, Kafka (KRaft) under a profile, collector, Jaeger, Mailpit', () => {
    const init = services.postgres.volumes.find((v: string) => v.includes('docker-entrypoint-initdb.d'));
    assert.ok(init, 'an init script creates the databases');
    const sql = read(init.split(':')[0].replace(/^\.\//, ''));
    for (const service of SERVICES) assert.match(sql, new RegExp(`CREATE DATABASE roster_${service};`));
    assert.match(services.rabbitmq.image, /management/);
    assert.deepEqual(services.kafka.profiles, ['kafka']);
    assert.match(services.kafka.environment.KAFKA_PROCESS_ROLES, /broker,controller/);
    assert.ok(services['otel-collector'] && services.jaeger && services.mailpit);
    const collector: Any = parse(read('deploy/otel-collector.yaml'));
    assert.equal(collector.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
    assert.match(collector.exporters['otlp/jaeger'].endpoint, /^jaeger:/);
    for (const name of Object.keys(services)) assert.equal(services[name].profiles?.includes('kafka') ?? false, name === 'kafka', `only kafka is in the kafka profile (${name})`);
  });

  for (const service of SERVICES) {
    it(`${service}: runs after its migration one-shot, with a health check, on the entry points the build makes`, () => {
      const s = services[service];
      const m = services[`${service}-migrate`];
      assert.ok(s && m, `${service} and ${service}-migrate exist`);
      assert.equal(entryPointProblem(s.command), undefined);
      assert.equal(entryPointProblem(m.command), undefined);
      assert.deepEqual(s.command, ['node', `services/${service}/dist/main.js`]);
      assert.deepEqual(m.command, ['node', `services/${service}/dist/migrate.js`]);
      assert.equal(s.image, m.image);
      assert.deepEqual(s.depends_on[`${service}-migrate`], { condition: 'service_completed_successfully' });
      assert.equal(s.depends_on.postgres.condition, 'service_healthy');
      assert.equal(m.depends_on.postgres.condition, 'service_healthy');
      assert.equal(s.depends_on.kafka.required, false, 'kafka is only there under its profile');
      assert.match(s.healthcheck.test.join(' '), /\/readyz/);
      assert.equal(s.environment.DB_MIGRATE, 'false');
      assert.ok(Number(s.stop_grace_period.replace(/s$/, '')) > (2 * Number(s.environment.SHUTDOWN_TIMEOUT_MS)) / 1000, 'stop_grace_period > 2 × SHUTDOWN_TIMEOUT_MS');
      assert.match(s.environment.DATABASE_URL, new RegExp(`/roster_${service}$`));
      assert.equal(m.environment.DATABASE_URL, s.environment.DATABASE_URL);
      assert.deepEqual(s.ports, [`127.0.0.1:${s.environment.PORT}:${s.environment.PORT}`]);
      assert.match(s.environment.OTEL_EXPORTER_OTLP_ENDPOINT, /^http:\/\/otel-collector:4318$/);
    });
  }

  it('every command of the Roster image runs a file the build produces', () => {
    const roster = Object.entries(services).filter(([, s]) => String(s.image).startsWith('roster:'));
    assert.equal(roster.length, SERVICES.length * 2);
    for (const [name, s] of roster) assert.equal(entryPointProblem(s.command), undefined, name);
  });

  it('one switch, COMPOSE_PROFILES=kafka, selects Kafka; RabbitMQ is the default', () => {
    for (const service of SERVICES) {
      assert.equal(services[service].environment.BUS_URL, undefined, 'BUS_URL comes from the switch\'s env_file only');
      assert.match(envFile(envFiles(services[service], 'rabbitmq')[0]!).BUS_URL!, /^amqp:\/\/[^@]+@rabbitmq:5672$/);
      assert.equal(envFile(envFiles(services[service], 'kafka')[0]!).BUS_URL, 'kafka://kafka:9092');
    }
    const rabbit = envFile('deploy/bus-rabbitmq.env').BUS_URL!;
    assert.match(rabbit, new RegExp(`${services.rabbitmq.environment.RABBITMQ_DEFAULT_USER}:${services.rabbitmq.environment.RABBITMQ_DEFAULT_PASS}@`));
  });

  it('every variable set for a Roster service is one the services read', () => {
    const config = configVariables();
    for (const [name, s] of Object.entries(services)) {
      if (!String(s.image).startsWith('roster:')) continue;
      const names = [...Object.keys(s.environment ?? {}), ...['rabbitmq', 'kafka'].flatMap((p) => envFiles(s, p).flatMap((f) => Object.keys(envFile(f))))];
      assert.deepEqual(names.filter((n) => !isReadVariable(n, config)), [], `${name} sets variables no service reads`);
    }
  });
});
