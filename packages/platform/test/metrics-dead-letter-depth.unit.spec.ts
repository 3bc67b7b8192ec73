import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMetrics, DEAD_LETTER_DEPTH_CACHE_MS } from '../src/metrics.js';
import { deadLetterGroups } from '../src/service.js';
import { depthShown } from './bus/dead-letter-depth.suite.js';

/** A bus stand-in that counts how often it is asked and answers what the test says. */
function fakeBroker(answer: (group: string) => Promise<number>) {
  const asked: string[] = [];
  return { asked, depthOf: (group: string) => (asked.push(group), answer(group)) };
}

describe('roster_dead_letter_depth (issue 7)', () => {
  it('asks the bus once per group for scrapes closer than the cache window (5 s by default)', async () => {
    assert.equal(DEAD_LETTER_DEPTH_CACHE_MS, 5_000);
    const broker = fakeBroker(async (group) => (group === 'scheduling' ? 3 : 0));
    const metrics = createMetrics('scheduling');
    metrics.watchDeadLetterDepth(['scheduling', 'scheduling-revocations'], broker.depthOf);
    const text = await metrics.registry.metrics();
    assert.match(text, /# HELP roster_dead_letter_depth Dead letters of a consumer group waiting/);
    assert.equal(await depthShown(metrics, 'scheduling'), 3);
    assert.equal(await depthShown(metrics, 'scheduling-revocations'), 0);
    assert.deepEqual(broker.asked, ['scheduling', 'scheduling-revocations'], 'three scrapes, one question per group');
  });

  it('asks again once the window has passed', async () => {
    let depth = 1;
    const broker = fakeBroker(async () => depth);
    const metrics = createMetrics('identity');
    metrics.watchDeadLetterDepth(['identity'], broker.depthOf, { cacheMs: 100 });
    assert.equal(await depthShown(metrics, 'identity'), 1);
    depth = 0;
    assert.equal(await depthShown(metrics, 'identity'), 1, 'within the window: the cached value');
    await sleep(150);
    assert.equal(await depthShown(metrics, 'identity'), 0);
    assert.equal(broker.asked.length, 2);
  });

  it('keeps the last value while the broker cannot tell, and shows no series before the first answer', async () => {
    let down = true;
    const broker = fakeBroker(async () => {
      if (down) throw new Error('RabbitMQ is not connected');
      return 4;
    });
    const metrics = createMetrics('directory');
    metrics.watchDeadLetterDepth(['directory'], broker.depthOf, { cacheMs: 0 });
    assert.equal(await depthShown(metrics, 'directory'), undefined, 'unknown is not 0');
    down = false;
    assert.equal(await depthShown(metrics, 'directory'), 4);
    down = true;
    assert.equal(await depthShown(metrics, 'directory'), 4, 'the last known depth');
  });

  it('never lets a broker that does not answer hold a scrape longer than the timeout', async () => {
    let hang = false;
    const broker = fakeBroker(() => (hang ? new Promise<number>(() => undefined) : Promise.resolve(2)));
    const metrics = createMetrics('notifications');
    metrics.watchDeadLetterDepth(['notifications'], broker.depthOf, { cacheMs: 0, timeoutMs: 100 });
    assert.equal(await depthShown(metrics, 'notifications'), 2);
    hang = true;
    const started = Date.now();
    assert.equal(await depthShown(metrics, 'notifications'), 2, 'the last known depth');
    const took = Date.now() - started;
    assert.ok(took >= 90 && took < 1_000, `the scrape took ${took} ms`);
  });

  it('watches the service\'s own group (when it consumes) and its revocation feed\'s, which dead-letters too', () => {
    const handler = async () => undefined;
    assert.deepEqual(deadLetterGroups('scheduling', [{ types: ['user.deactivated'], handler }]), ['scheduling', 'scheduling-revocations']);
    assert.deepEqual(deadLetterGroups('identity', []), ['identity-revocations']);
  });
});
