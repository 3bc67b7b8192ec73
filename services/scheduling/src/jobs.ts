import { startPeriodicJobs } from '@roster/platform/periodic';
import type { SchedulingContext } from './context.js';
import { publishTodaysDigests } from './digest/daily-digest.js';
import { extendScheduleHorizons } from './schedules/generation.js';

/**
 * Scheduling's periodic work, on every replica: extending schedule horizons (advisory lock +
 * unique occurrences) and the daily digests (claimed per sitter and day) are both safe to run
 * anywhere at once. A failed run is logged and retried at the next tick; a zone or a schedule that
 * fails is reported (logged, counted in roster_periodic_failures_total) and the others go on.
 */
export function startScheduledJobs(ctx: SchedulingContext): { stop(): Promise<void> } {
  // Digests wait a minute after start: a service that just started (a deploy, a test) lets the
  // day's visits arrive first, and the first run claims each sitter's day for good.
  return startPeriodicJobs([
    { name: 'extend schedule horizons', firstAfterMs: 10_000, everyMs: 15 * 60_000, run: (_, scheduleFailed) => extendScheduleHorizons(ctx.prisma, new Date(), ctx.logger, scheduleFailed) },
    { name: 'daily schedule digests', firstAfterMs: 60_000, everyMs: 5 * 60_000, run: (_, zoneFailed) => publishTodaysDigests(ctx, new Date(), zoneFailed) },
  ], ctx.logger, ctx.metrics);
}
