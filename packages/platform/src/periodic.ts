import type { Logger } from './logging.js';

export interface PeriodicJob {
  /** Named in the log when a run fails: `<name> failed; retrying at the next tick`. */
  name: string;
  firstAfterMs: number;
  everyMs: number;
  /**
   * One run; `keepGoing()` turns false once the service stops, so a long run can end between batches.
   * A run over many items (tenants, zones …) reports one that failed with `itemFailed` and goes on
   * with the rest: logged, counted, tried again at the next tick (issue 15).
   */
  run(keepGoing: () => boolean, itemFailed: (item: Record<string, unknown>, error: unknown) => void): Promise<unknown>;
}

/** Where a job's failures are counted (`roster_periodic_failures_total`); the service's metrics. */
export interface PeriodicFailureCounter {
  periodicFailure(job: string, scope: 'run' | 'item'): void;
}

/**
 * A service's periodic background work (the service definition's `background`), on every replica:
 * each job runs `firstAfterMs` after start, then every `everyMs`. A run still going when its next
 * tick comes is not overtaken; a failed run is logged and retried at the next tick. Timers are
 * unref'd (they never keep a process alive); stop waits for the runs in flight, so the database
 * is still open for them.
 */
export function startPeriodicJobs(jobs: readonly PeriodicJob[], logger: Logger, metrics?: PeriodicFailureCounter): { stop(): Promise<void> } {
  let stopped = false;
  const keepGoing = () => !stopped;
  const running = new Map<PeriodicJob, Promise<void>>();
  const timers = jobs.map((job) => {
    const tick = () => {
      if (stopped || running.has(job)) return;
      const itemFailed = (item: Record<string, unknown>, error: unknown) => {
        metrics?.periodicFailure(job.name, 'item');
        logger.error({ err: error, job: job.name, ...item }, `${job.name}: one item failed; the others go on, it is tried again at the next tick`);
      };
      const run = job.run(keepGoing, itemFailed).then(
        () => undefined,
        (error: unknown) => {
          metrics?.periodicFailure(job.name, 'run');
          logger.warn({ err: error, job: job.name }, `${job.name} failed; retrying at the next tick`);
        },
      ).finally(() => running.delete(job));
      running.set(job, run);
    };
    const first = setTimeout(tick, job.firstAfterMs);
    const every = setInterval(tick, job.everyMs);
    first.unref();
    every.unref();
    return [first, every] as const;
  });
  return {
    async stop() {
      stopped = true;
      for (const [first, every] of timers) {
        clearTimeout(first);
        clearInterval(every);
      }
      await Promise.allSettled([...running.values()]);
    },
  };
}
