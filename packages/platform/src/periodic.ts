import type { Logger } from './logging.js';

export interface PeriodicJob {
  /** Named in the log when a run fails: `<name> failed; retrying at the next tick`. */
  name: string;
  firstAfterMs: number;
  everyMs: number;
  /** One run; `keepGoing()` turns false once the service stops, so a long run can end between batches. */
  run(keepGoing: () => boolean): Promise<unknown>;
}

/**
 * A service's periodic background work (the service definition's `background`), on every replica:
 * each job runs `firstAfterMs` after start, then every `everyMs`. A run still going when its next
 * tick comes is not overtaken; a failed run is logged and retried at the next tick. Timers are
 * unref'd (they never keep a process alive); stop waits for the runs in flight, so the database
 * is still open for them.
 */
export function startPeriodicJobs(jobs: readonly PeriodicJob[], logger: Logger): { stop(): Promise<void> } {
  let stopped = false;
  const keepGoing = () => !stopped;
  const running = new Map<PeriodicJob, Promise<void>>();
  const timers = jobs.map((job) => {
    const tick = () => {
      if (stopped || running.has(job)) return;
      const run = job.run(keepGoing).then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, job: job.name }, `${job.name} failed; retrying at the next tick`),
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
