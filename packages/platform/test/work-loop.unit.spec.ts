import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { WorkLoop } from '../src/work-loop.js';
import { waitFor } from './support/wait.js';

describe('WorkLoop (the outbox relay\'s and the sender\'s loop)', () => {
  it('passes back to back while there is work, then waits for the poll or a nudge', async () => {
    const queue = [3, 2, 0];
    let passes = 0;
    const loop = new WorkLoop({ pass: async () => (passes++, queue.shift() ?? 0), onFailure: () => undefined, pollIntervalMs: 60_000 });
    loop.start();
    await waitFor('three passes', () => passes === 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(passes, 3, 'an empty pass waits for the poll interval');
    loop.nudge();
    await waitFor('a pass after the nudge', () => passes === 4);
    await loop.stop();
    assert.equal(loop.running, false);
  });

  it('with fullPass, a short pass ends the run of passes: the next waits for a nudge (the relay)', async () => {
    const queue = [10, 3, 5];
    let passes = 0;
    const loop = new WorkLoop({ pass: async () => (passes++, queue.shift() ?? 0), onFailure: () => undefined, pollIntervalMs: 60_000, fullPass: 10 });
    loop.start();
    await waitFor('a full pass and a short one', () => passes === 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(passes, 2, 'a pass that took 3 of 10 drained the work: no pass that would find nothing');
    loop.nudge();
    await waitFor('a pass after the nudge', () => passes === 3);
    await loop.stop();
  });

  it('with lingerMs, a pass soon after another waits for more work first; a pass after a quiet spell does not (the relay)', async () => {
    const began: number[] = [];
    const loop = new WorkLoop({ pass: async () => (began.push(performance.now()), 0), onFailure: () => undefined, pollIntervalMs: 60_000, lingerMs: 40 });
    loop.start();
    await waitFor('the first pass', () => began.length === 1);
    loop.nudge();
    await waitFor('a pass after the nudge', () => began.length === 2);
    assert.ok(began[1]! - began[0]! >= 38, `busy: the second pass lingered (${Math.round(began[1]! - began[0]!)} ms after the first)`);
    await new Promise((r) => setTimeout(r, 250)); // quiet for more than 4 lingers
    const nudged = performance.now();
    loop.nudge();
    await waitFor('a pass after a quiet spell', () => began.length === 3);
    assert.ok(began[2]! - nudged < 30, `idle: no linger (${Math.round(began[2]! - nudged)} ms)`);
    await loop.stop();
  });

  it('reports each failure with its count and tries again after a back-off', async () => {
    const failures: number[] = [];
    let passes = 0;
    const loop = new WorkLoop({
      pass: async () => {
        passes++;
        if (passes <= 2) throw new Error('database down');
        return 0;
      },
      onFailure: (_error, count) => void failures.push(count),
      pollIntervalMs: 60_000,
    });
    loop.start();
    await waitFor('a pass that works', () => passes === 3);
    await loop.stop();
    assert.deepEqual(failures, [1, 2]);
  });

  it('stop waits for the pass in progress', async () => {
    let finished = false;
    const loop = new WorkLoop({
      pass: async () => {
        await new Promise((r) => setTimeout(r, 100));
        finished = true;
        return 0;
      },
      onFailure: () => undefined,
      pollIntervalMs: 60_000,
    });
    loop.start();
    const stopping = performance.now();
    await loop.stop();
    assert.equal(finished, true);
    // Once the pass is done the loop ends: it does not wait out the 60 s poll interval first.
    assert.ok(performance.now() - stopping < 5_000, `stop took ${Math.round(performance.now() - stopping)} ms`);
  });
});
