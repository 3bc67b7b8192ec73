import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type Diagnostic } from '@asyncapi/parser';
import { parse as parseYaml } from 'yaml';
import {
  ATTRIBUTE_DESCRIPTIONS,
  buildAsyncApiDocument,
  COMPATIBLE_EVOLUTION_RULE,
  jsonSchemaOf,
  operationIdOf,
  payloadSchemaName,
} from '../src/asyncapi.js';
import { catalogue, EVENT_TYPES, topicOf } from '../src/catalogue.js';
import { CORE_ATTRIBUTES, envelopeAttributesSchema, EXTENSION_ATTRIBUTES } from '../src/envelope.js';
import { ASYNCAPI_PATH, OUT_OF_DATE_MESSAGE, renderAsyncApiYaml } from '../scripts/generate-asyncapi.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('../scripts/generate-asyncapi.ts', import.meta.url));
const packageVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const doc = buildAsyncApiDocument() as Json;

const runScript = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=roster-source', '--import', 'tsx', script, ...args], {
    cwd: root,
    encoding: 'utf8',
  });

describe('AsyncAPI document of the catalogue', () => {
  let parsed: AsyncAPIDocumentInterface;

  beforeAll(async () => {
    const { document, diagnostics } = await new Parser().parse(renderAsyncApiYaml());
    const errors = diagnostics.filter((d: Diagnostic) => d.severity === DiagnosticSeverity.Error);
    assert.deepEqual(
      errors.map((d) => `${d.code} at ${d.path.join('/')}: ${d.message}`),
      [],
      'the generated document must validate with @asyncapi/parser',
    );
    assert.ok(document, 'the parser returned no document');
    parsed = document;
  });

  it('is an AsyncAPI 3.0.0 document titled "Roster events" with the package version', () => {
    assert.equal(parsed.version(), '3.0.0');
    assert.equal(parsed.info().title(), 'Roster events');
    assert.equal(parsed.info().version(), packageVersion);
    assert.equal(parsed.defaultContentType(), 'application/json');
  });

  it('explains the envelope, the evolution rule and the expected steps in the info description', () => {
    const description = parsed.info().description() ?? '';
    for (const attribute of [...CORE_ATTRIBUTES, ...EXTENSION_ATTRIBUTES]) {
      assert.ok(description.includes(`\`${attribute}\``), `info.description should mention ${attribute}`);
    }
    assert.ok(description.includes('cloudEvents:<attribute>') && description.includes('ce_<attribute>'), 'header names');
    assert.ok(description.includes(COMPATIBLE_EVOLUTION_RULE), 'info.description carries the evolution rule');
    for (const type of EVENT_TYPES) {
      const steps = catalogue[type].stepsExpectedFrom;
      if (steps.length === 0) continue;
      const line = `- \`${type}\`: ${steps.map((s) => `\`${s}\``).join(', ')}`;
      assert.ok(description.split('\n').includes(line), `info.description should list the steps of ${type}`);
    }
  });

  it('copies the compatible-evolution rule word for word from catalogue.ts', () => {
    const source = readFileSync(new URL('../src/catalogue.ts', import.meta.url), 'utf8');
    const comment = /Compatible evolution rule[^\n]*\n([\s\S]*?)\*\//.exec(source)?.[1];
    assert.ok(comment, 'the rule comment in catalogue.ts was not found');
    const words = (s: string) => s.replace(/^\s*\* ?/gm, '').replace(/\s+/g, ' ').trim();
    assert.equal(
      words(COMPATIBLE_EVOLUTION_RULE),
      words(comment),
      'the rule in catalogue.ts changed: update COMPATIBLE_EVOLUTION_RULE in src/asyncapi.ts and run npm run asyncapi',
    );
  });

  it('describes the RabbitMQ and Kafka servers', () => {
    const rabbit = parsed.servers().get('rabbitmq');
    const kafka = parsed.servers().get('kafka');
    assert.ok(rabbit && kafka);
    assert.equal(rabbit.protocol(), 'amqp');
    assert.equal(rabbit.host(), '127.0.0.1:5672');
    for (const words of ['`roster.events`', 'routing key', 'roster.<service>', 'roster.<service>.dead']) {
      assert.ok(rabbit.description()?.includes(words), `rabbitmq description should say ${words}`);
    }
    assert.equal(kafka.protocol(), 'kafka');
    for (const words of ['roster.<family>', 'record key is the subject', 'roster.dead-letter']) {
      assert.ok(kafka.description()?.includes(words), `kafka description should say ${words}`);
    }
  });

  it('has one channel per event type, addressed by the type, with AMQP and Kafka bindings', () => {
    assert.equal(parsed.channels().length, EVENT_TYPES.length);
    for (const type of EVENT_TYPES) {
      const channel = parsed.channels().get(type);
      assert.ok(channel, `no channel for ${type}`);
      assert.equal(channel.address(), type);
      const amqp = channel.bindings().get('amqp')?.value() as Json | undefined;
      assert.deepEqual(
        { is: amqp?.['is'], exchange: amqp?.['exchange']?.name, type: amqp?.['exchange']?.type },
        { is: 'routingKey', exchange: 'roster.events', type: 'topic' },
      );
      const kafka = channel.bindings().get('kafka')?.value() as Json | undefined;
      assert.equal(kafka?.['topic'], topicOf(type));
      assert.deepEqual(channel.messages().all().map((m) => m.name()), [type]);
    }
  });

  it('has one message per event type with its payload schema, the envelope headers and the roster extensions', () => {
    const envelope = jsonSchemaOf(envelopeAttributesSchema) as Json;
    for (const type of EVENT_TYPES) {
      const def = catalogue[type];
      const message = doc['components']['messages'][type] as Json;
      assert.ok(message, `no message for ${type}`);
      assert.equal(message['name'], type);
      assert.equal(message['summary'], def.summary);
      assert.equal(message['contentType'], 'application/json');
      assert.ok(typeof message['title'] === 'string' && message['title'].length > 0);
      assert.equal(message['x-roster-version'], def.version);
      assert.deepEqual(message['x-roster-producers'], def.producers);
      assert.deepEqual(message['x-roster-consumers'], def.consumers);
      assert.deepEqual(message['x-roster-steps-expected-from'], def.stepsExpectedFrom);

      assert.equal(message['payload']['$ref'], `#/components/schemas/${payloadSchemaName(type)}`);
      const { title: _title, ...payload } = doc['components']['schemas'][payloadSchemaName(type)] as Json;
      assert.deepEqual(payload, jsonSchemaOf(def.payload), `payload schema of ${type}`);

      const parsedMessage = parsed.messages().get(type);
      assert.ok(parsedMessage, `the parser sees no message ${type}`);
      assert.equal(parsedMessage.payload()?.type(), 'object');
      // Issue 16 item 10: the headers as each binding carries them, one schema per binding.
      const headers = parsedMessage.headers();
      assert.ok(headers, `${type} has no headers`);
      const perBinding = headers.oneOf() ?? [];
      assert.deepEqual(perBinding.map((h) => h.title()), ['RabbitMQ (AMQP 0-9-1) headers', 'Kafka headers']);
      for (const [i, prefix] of (['cloudEvents:', 'ce_'] as const).entries()) {
        const wire = perBinding[i]!;
        const attributes = Object.keys(envelope['properties']).filter((a) => a !== 'datacontenttype');
        const expected = [...attributes.map((a) => prefix + a), ...(prefix === 'ce_' ? ['content-type'] : [])];
        assert.deepEqual(Object.keys(wire.properties() ?? {}), expected);
        assert.deepEqual(wire.required(), [
          ...(envelope['required'] as string[]).filter((a) => a !== 'datacontenttype').map((a) => prefix + a), ...(prefix === 'ce_' ? ['content-type'] : []),
        ]);
        assert.ok(Object.values(wire.properties() ?? {}).every((p) => p.type() === 'string'), 'every header value is a string');
      }
    }
  });

  it('describes every envelope attribute, CloudEvents and Roster extensions alike', () => {
    const headers = doc['components']['schemas']['EnvelopeAttributes'] as Json;
    const names = Object.keys(envelopeAttributesSchema.shape);
    for (const attribute of [...CORE_ATTRIBUTES, ...EXTENSION_ATTRIBUTES]) assert.ok(names.includes(attribute), attribute);
    for (const extension of ['tenantid', 'correlationid', 'causationid', 'subjectversion', 'traceparent', 'tracestate', 'dataversion']) {
      assert.ok(names.includes(extension), `envelope lacks ${extension}`);
    }
    assert.deepEqual(Object.keys(headers['properties']), names);
    for (const name of names) {
      assert.ok(ATTRIBUTE_DESCRIPTIONS[name], `ATTRIBUTE_DESCRIPTIONS lacks ${name}`);
      assert.equal(headers['properties'][name]['description'], ATTRIBUTE_DESCRIPTIONS[name]);
    }
  });

  it('has a send operation per producer and a receive operation per consumer, and no other', () => {
    const expected: string[] = [];
    for (const type of EVENT_TYPES) {
      const def = catalogue[type];
      for (const producer of def.producers) expected.push(operationIdOf(producer, 'send', type));
      for (const consumer of def.consumers) expected.push(operationIdOf(consumer, 'receive', type));
    }
    assert.ok(expected.includes('directory.send.user.deactivated'));
    assert.deepEqual(Object.keys(doc['operations']).sort(), [...expected].sort());
    assert.equal(parsed.operations().length, expected.length);
    for (const id of expected) {
      const [service, action, ...rest] = id.split('.');
      const type = rest.join('.');
      const operation = parsed.operations().get(id);
      assert.ok(operation, `no operation ${id}`);
      assert.equal(operation.action(), action);
      assert.deepEqual(operation.channels().all().map((c) => c.address()), [type]);
      assert.deepEqual(operation.messages().all().map((m) => m.name()), [type]);
      if (action === 'receive') {
        const kafka = operation.bindings().get('kafka')?.value() as Json | undefined;
        assert.deepEqual(kafka?.['groupId']?.enum, [`roster.${service}`]);
        assert.match(operation.description() ?? '', new RegExp(`roster\\.${service}\\.dead`));
      }
    }
  });

  it('is deterministic and free of shared YAML anchors', () => {
    const a = renderAsyncApiYaml();
    assert.equal(renderAsyncApiYaml(), a);
    assert.deepEqual(parseYaml(a), JSON.parse(JSON.stringify(buildAsyncApiDocument())));
    assert.doesNotMatch(a, /^\s*[\w.-]+: [&*]\w+/m, 'no YAML anchors or aliases');
  });
});

describe('committed asyncapi.yaml', () => {
  it('is up to date with the contracts', () => {
    const committed = (() => {
      try {
        return readFileSync(ASYNCAPI_PATH, 'utf8');
      } catch {
        return '(missing)';
      }
    })();
    assert.ok(committed === renderAsyncApiYaml(), `${OUT_OF_DATE_MESSAGE} (packages/contracts/asyncapi.yaml differs from a fresh generation)`);
  });

  it('`--check` exits 0 when the file is current and 1 with the fix when it is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-asyncapi-'));
    try {
      const file = join(dir, 'asyncapi.yaml');
      writeFileSync(file, renderAsyncApiYaml());
      const ok = runScript('--check', '--out', file);
      assert.equal(ok.status, 0, ok.stderr);

      writeFileSync(file, `${renderAsyncApiYaml()}# edited by hand\n`);
      const stale = runScript('--check', '--out', file);
      assert.equal(stale.status, 1);
      assert.match(stale.stderr, /asyncapi\.yaml is out of date: run npm run asyncapi/);
      assert.ok(readFileSync(file, 'utf8').endsWith('# edited by hand\n'), '--check never writes');

      const written = runScript('--out', file);
      assert.equal(written.status, 0, written.stderr);
      assert.equal(readFileSync(file, 'utf8'), renderAsyncApiYaml());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
