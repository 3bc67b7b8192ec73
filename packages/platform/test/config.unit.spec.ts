import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});

describe('a service\'s subscriptions', () => {
  it('may not list one type twice: in one consumer group they would compete and each see only some events', async () => {
    const { assertNoCompetingSubscriptions } = await import('../src/service.js');
    assert.doesNotThrow(() => assertNoCompetingSubscriptions('scheduling', [{ types: ['user.created'] }, { types: ['user.deactivated'] }, { types: ['user.created'], delivery: 'broadcast' }]));
    assert.throws(() => assertNoCompetingSubscriptions('scheduling', [{ types: ['user.created', 'access.granted'] }, { types: ['access.granted'] }]), /subscriptions 0 and 1 both consume access.granted/);
  });
});

describe('a service\'s consumer group', () => {
  it('gets one subscription that hands each event to the handler listing its type', async () => {
    const { oneSubscription } = await import('../src/service.js');
    const seen: string[] = [];
    const merged = oneSubscription([
      { types: ['user.created'], handler: async (e) => void seen.push(`a:${e.type}`) },
      { types: ['access.granted', 'role.changed'], handler: async (e) => void seen.push(`b:${e.type}`) },
    ])!;
    assert.deepEqual([...merged.types].sort(), ['access.granted', 'role.changed', 'user.created']);
    const ctx = { transport: 'memory' as const, attempt: 1, group: 'g' };
    await merged.handler({ type: 'role.changed' } as never, ctx);
    await merged.handler({ type: 'user.created' } as never, ctx);
    assert.deepEqual(seen, ['b:role.changed', 'a:user.created']);
  });
});
