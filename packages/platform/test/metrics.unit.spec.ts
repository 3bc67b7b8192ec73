import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { MemoryBus } from '../src/bus/memory.js';
import { createMetrics } from '../src/metrics.js';
import { deactivation } from './support/events.js';
import { sample } from './support/metrics.js';
import { waitFor } from './support/wait.js';

describe('createMetrics', () => {
  it('counts HTTP requests and their duration by method, route and status, labelled with the service', async () => {
    const metrics = createMetrics('identity');
    metrics.observeHttp('get', '/me', 200, 0.012);
    metrics.observeHttp('GET', '/me', 200, 0.3);
    metrics.observeHttp('POST', '/sessions', 401, 0.02);
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'http_requests_total', { service: 'identity', method: 'GET', route: '/me', status_code: '200' }), 2);
    assert.equal(sample(text, 'http_requests_total', { service: 'identity', method: 'POST', route: '/sessions', status_code: '401' }), 1);
    assert.equal(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/me', status_code: '200' }), 2);
    assert.equal(sample(text, 'http_request_duration_seconds_bucket', { method: 'GET', route: '/me', le: '0.025' }), 1);
    assert.ok(Math.abs((sample(text, 'http_request_duration_seconds_sum', { route: '/me' }) ?? 0) - 0.312) < 1e-9);
    assert.match(text, /# HELP http_requests_total HTTP requests served/);
  });

  it('observes the bus: published, consumed by outcome, lag, dead letters', async () => {
    const metrics = createMetrics('scheduling');
    const o = metrics.busObserver;
    o.published?.('user.deactivated');
    o.published?.('user.deactivated');
    o.consumed?.('scheduling', 'user.deactivated', 'handled', 40);
    o.consumed?.('scheduling', 'user.deactivated', 'retried', 1500);
    o.consumed?.('scheduling', 'user.deactivated', 'dead_lettered', 2500);
    o.consumed?.('scheduling', 'unknown', 'dead_lettered', 0);
    metrics.deadLetters.inc({ group: 'scheduling', type: 'user.reactivated' });
    const text = await metrics.registry.metrics();
    const base = { service: 'scheduling', group: 'scheduling' };
    assert.equal(sample(text, 'roster_events_published_total', { service: 'scheduling', type: 'user.deactivated' }), 2);
    for (const outcome of ['handled', 'retried', 'dead_lettered']) {
      assert.equal(sample(text, 'roster_events_consumed_total', { ...base, type: 'user.deactivated', outcome }), 1, outcome);
    }
    assert.equal(sample(text, 'roster_events_consumed_total', { ...base, type: 'unknown', outcome: 'dead_lettered' }), 1);
    assert.equal(sample(text, 'roster_dead_letters_total', { ...base, type: 'user.deactivated' }), 1);
    assert.equal(sample(text, 'roster_dead_letters_total', { ...base, type: 'unknown' }), 1);
    assert.equal(sample(text, 'roster_dead_letters_total', { ...base, type: 'user.reactivated' }), 1);
    // Lag in seconds; malformed messages (type unknown) have none.
    assert.equal(sample(text, 'roster_consumer_lag_seconds_count', { ...base, type: 'user.deactivated' }), 3);
    assert.equal(sample(text, 'roster_consumer_lag_seconds_sum', { ...base, type: 'user.deactivated' }), 4.04);
    assert.equal(sample(text, 'roster_consumer_lag_seconds_bucket', { ...base, type: 'user.deactivated', le: '0.05' }), 1);
    assert.equal(sample(text, 'roster_consumer_lag_seconds_count', { ...base, type: 'unknown' }), undefined);
  });

  it('is the observer a bus calls', async () => {
    const metrics = createMetrics('notifications');
    const bus = new MemoryBus(metrics.busObserver);
    let handled = 0;
    const sub = await bus.subscribe({
      group: 'notifications',
      types: ['user.deactivated'],
      handler: async () => void handled++,
    });
    await bus.publish([deactivation('p-1'), deactivation('p-2')]);
    await waitFor('both events handled', () => handled === 2);
    await sub.close();
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'roster_events_published_total', { type: 'user.deactivated' }), 2);
    await waitFor('consumed counted', async () =>
      sample(await metrics.registry.metrics(), 'roster_events_consumed_total', { group: 'notifications', type: 'user.deactivated', outcome: 'handled' }) === 2);
  });

  it('sets the outbox gauges', async () => {
    const metrics = createMetrics('directory');
    metrics.setOutboxLag(7, 12.5);
    let text = await metrics.registry.metrics();
    assert.equal(sample(text, 'roster_outbox_pending', { service: 'directory' }), 7);
    assert.equal(sample(text, 'roster_outbox_oldest_age_seconds', { service: 'directory' }), 12.5);
    metrics.setOutboxLag(0, 0);
    text = await metrics.registry.metrics();
    assert.equal(sample(text, 'roster_outbox_pending', {}), 0);
    assert.equal(sample(text, 'roster_outbox_oldest_age_seconds', {}), 0);
  });

  it('gives each service its own registry in one process, with the Node.js process metrics', async () => {
    const a = createMetrics('identity');
    const b = createMetrics('directory');
    a.observeHttp('GET', '/me', 200, 0.01);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    assert.equal(sample(textA, 'http_requests_total', { service: 'identity', route: '/me' }), 1);
    assert.equal(sample(textB, 'http_requests_total', { route: '/me' }), undefined);
    for (const text of [textA, textB]) {
      assert.match(text, /^process_cpu_user_seconds_total\{service="[a-z]+"\} /m);
      assert.match(text, /^nodejs_heap_size_used_bytes\{service="[a-z]+"\} /m);
      assert.equal(text.match(/^# TYPE process_cpu_user_seconds_total /gm)?.length, 1);
    }
    // Every Roster metric has a help text.
    for (const m of textA.matchAll(/^# HELP (roster_\w+|http_\w+) (.*)$/gm)) assert.ok((m[2] ?? '').length > 10, m[1]);
  });
});
