import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from '@jest/globals';
import { createLogger } from '../src/logging.js';
import { startPeriodicJobs } from '../src/periodic.js';
import { waitFor } from './support/wait.js';

const captured = () => {
  const lines: { level: string; msg: string; job?: string }[] = [];
  const logger = createLogger('scheduling', { level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines };
};

describe('periodic jobs (identity\'s retention, scheduling\'s horizons and digests)', () => {
  it('issue 15: an item that fails is logged and counted and the run goes on; a failed run is counted too', async () => {
    const { logger, lines } = captured();
    const counted: string[] = [];
    const metrics = { periodicFailure: (job: string, scope: 'run' | 'item') => void counted.push(`${job}:${scope}`) };
    const done: string[] = [];
    const jobs = startPeriodicJobs([
      {
        name: 'digests', firstAfterMs: 0, everyMs: 60_000,
        run: async (_, itemFailed) => {
          for (const zone of ['Asia/Tokyo', 'Mars/Olympus_Mons', 'UTC']) {
            if (zone.startsWith('Mars')) itemFailed({ timeZone: zone }, new Error('unknown zone'));
            else done.push(zone);
          }
        },
      },
      { name: 'broken', firstAfterMs: 0, everyMs: 60_000, run: async () => { throw new Error('database gone'); } },
    ], logger, metrics);
    await waitFor('both runs', () => counted.length >= 2 && done.length === 2);
    await jobs.stop();
    assert.deepEqual(done, ['Asia/Tokyo', 'UTC']);
    assert.deepEqual(counted.sort(), ['broken:run', 'digests:item']);
    assert.ok(lines.some((l) => l.level === 'error' && /one item failed/.test(l.msg) && (l as { timeZone?: string }).timeZone === 'Mars/Olympus_Mons'));
  });

  it('never overtakes a run still going; stop waits for it, and nothing runs after', async () => {
    const { logger } = captured();
    let active = 0;
    let most = 0;
    let runs = 0;
    let stoppedWhileRunning = false;
    const jobs = startPeriodicJobs([{
      name: 'slow job', firstAfterMs: 0, everyMs: 5,
      run: async (keepGoing) => {
        runs++;
        active++;
        most = Math.max(most, active);
        await sleep(40);
        stoppedWhileRunning ||= !keepGoing();
        active--;
      },
    }], logger);
    await waitFor('two runs', () => runs >= 2);
    await jobs.stop();
    assert.equal(most, 1, 'one run at a time although ticks come every 5 ms');
    assert.equal(active, 0, 'stop waited for the run in flight');
    assert.equal(stoppedWhileRunning, true, 'the run in flight was told to stop');
    const after = runs;
    await sleep(30);
    assert.equal(runs, after, 'no run after stop');
  });

  it('logs a failed run under its job\'s name and runs it again at the next tick', async () => {
    const { logger, lines } = captured();
    let runs = 0;
    const jobs = startPeriodicJobs([{
      name: 'daily schedule digests', firstAfterMs: 0, everyMs: 10,
      run: async () => {
        runs++;
        if (runs === 1) throw new Error('database down');
      },
    }], logger);
    await waitFor('a run after the failure', () => runs >= 2);
    await jobs.stop();
    const warned = lines.filter((l) => l.level === 'warn');
    assert.deepEqual(warned.map((l) => [l.msg, l.job]), [['daily schedule digests failed; retrying at the next tick', 'daily schedule digests']]);
  });
});
