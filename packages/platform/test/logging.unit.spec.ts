import assert from 'node:assert/strict';
import { afterEach, describe, it } from '@jest/globals';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { runInWork } from '../src/context.js';
import { createLogger, REDACTED_PATHS, redactUrl } from '../src/logging.js';
import { startTelemetry, withSpan } from '../src/telemetry.js';

function capture(level = 'debug') {
  const lines: string[] = [];
  const logger = createLogger('identity', { level, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  const savedLevel = process.env['LOG_LEVEL'];
  const savedEnv = process.env['NODE_ENV'];
  afterEach(() => {
    if (savedLevel === undefined) delete process.env['LOG_LEVEL'];
    else process.env['LOG_LEVEL'] = savedLevel;
    process.env['NODE_ENV'] = savedEnv;
  });

  it('writes JSON lines that carry the service, level and time', () => {
    const { logger, records } = capture();
    logger.info({ personId: 'p-1' }, 'login granted');
    const [line] = records();
    assert.equal(line?.['service'], 'identity');
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['msg'], 'login granted');
    assert.equal(line?.['personId'], 'p-1');
    assert.match(String(line?.['time']), /^\d{4}-\d\d-\d\dT/);
  });

  it('takes its level from options, then LOG_LEVEL, and is silent under NODE_ENV=test', () => {
    delete process.env['LOG_LEVEL'];
    process.env['NODE_ENV'] = 'test';
    assert.equal(createLogger('x').level, 'silent');
    process.env['NODE_ENV'] = 'production';
    assert.equal(createLogger('x').level, 'info');
    process.env['LOG_LEVEL'] = 'warn';
    assert.equal(createLogger('x').level, 'warn');
    process.env['NODE_ENV'] = 'test';
    assert.equal(createLogger('x').level, 'warn');
    assert.equal(createLogger('x', { level: 'debug' }).level, 'debug');
  });

  it('never writes a credential, at any depth it covers', () => {
    const { logger, lines } = capture();
    const secrets = [
      'S1-top-password', 'S2-body-newPassword', 'S3-currentPassword', 'S4-temporaryPassword',
      'S5-token', 'S6-accessToken', 'S7-refreshToken', 'S8-secret', 'S9-bearer', 'S10-cookie',
      'S11-operator-key', 'S12-ciphertext', 'S13-deep3', 'S14-array', 'S15-child', 'S16-event-secret',
      'S17-event-token', 'S18-res-cookie', 'S19-deep-event',
    ];
    logger.info({ password: secrets[0] }, 'top level');
    logger.info({ body: { newPassword: secrets[1], currentPassword: secrets[2] } }, 'one level');
    logger.info({ grant: { login: { temporaryPassword: secrets[3] } } }, 'two levels');
    logger.info({ a: { b: { c: { token: secrets[4] } } } }, 'three levels');
    logger.info({ session: { accessToken: secrets[5], refreshToken: secrets[6] }, secret: secrets[7] }, 'tokens');
    logger.info(
      { req: { method: 'POST', headers: { authorization: `Bearer ${secrets[8]}`, cookie: secrets[9], 'x-operator-key': secrets[10] } } },
      'request',
    );
    logger.info({ res: { headers: { 'set-cookie': secrets[17] } } }, 'response');
    logger.info({ sealed: { keyId: 'k1', ciphertext: secrets[11] } }, 'sealed');
    logger.info({ x: { y: { z: { password: secrets[12] } } } }, 'deep');
    logger.info({ items: [{ password: secrets[13] }] }, 'array');
    logger.child({ credentials: { password: secrets[14] } }).info('child bindings');
    logger.child({ op: 'grant' }).child({ token: secrets[14] }).info('grandchild bindings');
    logger.info({ event: { type: 'login.granted', data: { personId: 'p', secret: { keyId: 'k', ciphertext: secrets[15] } } } }, 'event');
    logger.info({ data: { token: { keyId: 'k', ciphertext: secrets[16] } } }, 'event payload');
    logger.info({ delivery: { event: { data: { secret: secrets[18] } } } }, 'nested event');

    const out = lines.join('');
    assert.equal(lines.length, 15);
    for (const secret of secrets) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    assert.ok(out.includes('"[redacted]"'));
    // What is not a secret stays readable.
    assert.ok(out.includes('"method":"POST"'));
    assert.ok(out.includes('"keyId":"k1"'));
    assert.ok(out.includes('"type":"login.granted"'));
  });

  it('redacts at any depth, in errors and whatever the case of the key, without touching the logged object', () => {
    const { logger, lines } = capture();
    const deep = { l1: { l2: { l3: { l4: { l5: { l6: { password: 'D6-SECRET', kept: 'visible-6' } } } } } } };
    logger.info(deep, 'deep');
    logger.info({ headers: { Authorization: 'Bearer CASE-SECRET', 'X-Operator-Key': 'OPKEY-SECRET' } }, 'case');
    const failure = Object.assign(new Error('login failed'), { config: { headers: { authorization: 'Bearer ERR-SECRET' } } });
    failure.cause = Object.assign(new Error('cause'), { token: 'CAUSE-SECRET' });
    logger.error({ err: failure }, 'error');
    logger.error(Object.assign(new Error('top'), { password: 'TOPERR-SECRET' }));
    logger.warn({ error: Object.assign(new Error('other key'), { secret: 'OTHERKEY-SECRET' }) }, 'other');
    const out = lines.join('');
    assert.doesNotMatch(out, /SECRET/);
    assert.ok(out.includes('visible-6'));
    assert.ok(out.includes('login failed'));
    assert.equal(deep.l1.l2.l3.l4.l5.l6.password, 'D6-SECRET', 'the caller object is not mutated');
  });

  it('exports the same rule as pino redact paths of explicit depth', () => {
    for (const p of ['password', '*.password', '*.*.password', '*.*.*.password', 'req.headers.authorization', 'data.secret', 'data.token']) {
      assert.ok(REDACTED_PATHS.includes(p), p);
    }
    assert.ok(REDACTED_PATHS.includes('*["x-operator-key"]'));
    const lines: string[] = [];
    const plain = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write: (l: string) => void lines.push(l) });
    plain.info({ password: 'P0-SECRET', a: { b: { c: { token: 'P3-SECRET' } } }, req: { headers: { 'x-operator-key': 'K-SECRET' } }, data: { secret: { ciphertext: 'C-SECRET' } } });
    assert.doesNotMatch(lines.join(''), /SECRET/);
  });

  it('adds the work context inside runInWork, and nothing outside it', () => {
    const { logger, records } = capture();
    logger.info('outside');
    runInWork({ correlationId: 'corr-123', causationId: 'evt-9', tenantId: 'tenant-1' }, () => logger.info('inside'));
    runInWork({ correlationId: 'corr-456' }, () => logger.info('no tenant'));
    const [outside, inside, partial] = records();
    assert.equal(outside?.['correlationId'], undefined);
    assert.equal(inside?.['correlationId'], 'corr-123');
    assert.equal(inside?.['causationId'], 'evt-9');
    assert.equal(inside?.['tenantId'], 'tenant-1');
    assert.equal(partial?.['correlationId'], 'corr-456');
    assert.ok(!('tenantId' in (partial ?? {})));
  });

  it('adds traceId and spanId inside an active span', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = startTelemetry({ service: 'identity', exporter, instrument: false });
    try {
      const { logger, records } = capture();
      await runInWork({ correlationId: 'corr-span' }, () => withSpan('grant login', {}, async () => logger.info('in span')));
      logger.info('after span');
      const span = exporter.getFinishedSpans().find((s) => s.name === 'grant login');
      assert.ok(span);
      const [inSpan, after] = records();
      assert.equal(inSpan?.['traceId'], span.spanContext().traceId);
      assert.equal(inSpan?.['spanId'], span.spanContext().spanId);
      assert.equal(inSpan?.['correlationId'], 'corr-span');
      assert.equal(after?.['traceId'], undefined);
    } finally {
      await telemetry.shutdown();
    }
  });
});

describe('redactUrl', () => {
  it('hides the password of connection URLs and nothing else', () => {
    assert.equal(redactUrl('postgres://roster:s3cr3t@db.internal:5432/identity'), 'postgres://roster:***@db.internal:5432/identity');
    assert.equal(redactUrl('postgresql://u:p%40ss@h/db?sslmode=require'), 'postgresql://u:***@h/db?sslmode=require');
    assert.equal(redactUrl('amqp://guest:guest@127.0.0.1:5672'), 'amqp://guest:***@127.0.0.1:5672');
    assert.equal(redactUrl('amqps://user:pa/ss:word@mq.example.com/vhost'), 'amqps://user:***@mq.example.com/vhost');
    assert.equal(redactUrl('smtp://mailer:pw@smtp.example.com:587'), 'smtp://mailer:***@smtp.example.com:587');
    assert.equal(redactUrl('postgres://h/db?user=u&password=pw&sslmode=verify-full'), 'postgres://h/db?user=u&password=***&sslmode=verify-full');
    assert.equal(redactUrl('postgres://postgres@127.0.0.1:5432/postgres'), 'postgres://postgres@127.0.0.1:5432/postgres');
    assert.equal(redactUrl('kafka://127.0.0.1:9092,127.0.0.1:9093'), 'kafka://127.0.0.1:9092,127.0.0.1:9093');
    assert.equal(redactUrl('memory:'), 'memory:');
    assert.equal(redactUrl('file:///var/lib/roster/identity'), 'file:///var/lib/roster/identity');
  });
});
