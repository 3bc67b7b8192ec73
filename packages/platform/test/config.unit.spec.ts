import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

describe('service configuration', () => {
  it('defaults to the embedded footprint: PGlite under .data, the in-memory bus, migrations at start', () => {
    const c = loadConfig('scheduling', {}, 4003);
    assert.equal(c.port, 4003);
    assert.equal(c.databaseUrl, 'pglite:.data/scheduling');
    assert.equal(c.busUrl, 'memory:');
    assert.equal(c.migrateOnStart, true);
  });

  it('does not migrate Postgres at start unless told to (production runs migrate.js)', () => {
    assert.equal(loadConfig('identity', { DATABASE_URL: 'postgres://h/db' }, 1).migrateOnStart, false);
    assert.equal(loadConfig('identity', { DATABASE_URL: 'postgres://h/db', DB_MIGRATE: 'true' }, 1).migrateOnStart, true);
  });

  it('reads service-prefixed variables, the plain name winning', () => {
    assert.equal(loadConfig('directory', { DIRECTORY_PORT: '5002' }, 4002).port, 5002);
    assert.equal(loadConfig('directory', { DIRECTORY_PORT: '5002', PORT: '6002' }, 4002).port, 6002);
  });

  it('names every invalid variable', () => {
    assert.throws(
      () => loadConfig('directory', { PORT: 'eighty', ROSTER_OPERATOR_KEY: 'short', DB_POOL_SIZE: '0' }, 4002),
      (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message) && /ROSTER_OPERATOR_KEY: must be at least 16/.test(e.message) && /DB_POOL_SIZE/.test(e.message),
    );
  });

  it('prepares statements unless DB_PREPARED_STATEMENTS=false (a transaction-mode pooler)', () => {
    assert.equal(loadConfig('identity', {}, 4001).dbPreparedStatements, true);
    assert.equal(loadConfig('identity', { DB_PREPARED_STATEMENTS: 'false' }, 4001).dbPreparedStatements, false);
    assert.throws(() => loadConfig('identity', { DB_PREPARED_STATEMENTS: 'maybe' }, 4001), /DB_PREPARED_STATEMENTS/);
  });

  it('keeps ended sessions the identity default unless SESSION_RETENTION_DAYS says otherwise (at least a day)', () => {
    assert.equal(loadConfig('identity', {}, 4001).sessionRetentionDays, undefined);
    assert.equal(loadConfig('identity', { IDENTITY_SESSION_RETENTION_DAYS: '30' }, 4001).sessionRetentionDays, 30);
    assert.throws(() => loadConfig('identity', { SESSION_RETENTION_DAYS: '0' }, 4001), /SESSION_RETENTION_DAYS/);
  });

  it('trusts no proxy unless TRUST_PROXY says which (L8: behind an ingress, throttling needs the client\'s address)', () => {
    const trust = (value: string | undefined, prefixed = false) =>
      loadConfig('identity', value === undefined ? {} : { [prefixed ? 'IDENTITY_TRUST_PROXY' : 'TRUST_PROXY']: value }, 4001).trustProxy;
    assert.equal(trust(undefined), false);
    assert.equal(trust(''), false);
    assert.equal(trust('false'), false);
    assert.equal(trust('2'), 2, 'a number of hops');
    assert.deepEqual(trust('uniquelocal'), ['uniquelocal']);
    assert.deepEqual(trust(' loopback, 10.0.0.0/8,192.168.1.7 , fd00::/8, ::1 '), ['loopback', '10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
    assert.deepEqual(trust('linklocal', true), ['linklocal'], 'the service-prefixed form');
  });

  it('refuses a TRUST_PROXY that is not a hop count or a list of addresses, CIDRs and names, naming the variable', () => {
    const refused = (value: string, why: RegExp) => assert.throws(
      () => loadConfig('identity', { TRUST_PROXY: value }, 4001),
      (e: unknown) => e instanceof ConfigError && /TRUST_PROXY: /.test(e.message) && why.test(e.message),
      value,
    );
    refused('true', /would trust any client/);
    refused('ingress-nginx', /"ingress-nginx" is neither an address, a CIDR nor one of loopback, linklocal, uniquelocal/);
    refused('10.0.0.0/33', /"10.0.0.0\/33": the prefix length must be 0 to 32/);
    refused('fd00::/129', /0 to 128/);
    refused('10.0.0.1, 10.0.0.300', /"10.0.0.300" is neither/);
    refused('-1', /neither/);
    refused('1.5', /neither/);
    refused(' , ', /a number of hops/);
  });
});

