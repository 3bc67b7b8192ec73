import { BusyLinger } from './linger.js';

export interface WorkLoopOptions {
  /** One pass over the work; returns how many items it took (more are looked for at once when > 0). */
  pass(): Promise<number>;
  /** After a failed pass, before the back-off: logging, bookkeeping. */
  onFailure(error: unknown, failures: number): Promise<void> | void;
  /** Wait between passes that found nothing, unless `nudge()` comes first. */
  pollIntervalMs: number;
  /**
   * When set, a pass that took fewer items than this found the work drained: the loop waits for a
   * nudge or the poll instead of passing again at once (a pass that finds nothing has a cost).
   */
  fullPass?: number;
  /** While busy, how long a pass waits first so that what commits meanwhile goes with it (BusyLinger; ms, default 0). */
  lingerMs?: number;
}

/**
 * The loop of a background worker that drains a table (the outbox relay, notifications' sender):
 * passes back to back while there is work, a poll interval between empty (or, with `fullPass`,
 * short) passes that `nudge()` cuts short (a commit just added work), and after a failure a back-off doubling from 200 ms to 5 s.
 */
export class WorkLoop {
  private active = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pendingNudge = false;

  constructor(private readonly o: WorkLoopOptions) {}

  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.loop = this.run();
  }

  nudge(): void {
    this.pendingNudge = true;
    this.wake?.();
  }

  /** Stops starting passes and waits for the one in progress. */
  async stop(): Promise<void> {
    this.active = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    const linger = new BusyLinger(this.o.lingerMs ?? 0);
    while (this.active) {
      let taken = 0;
      try {
        const lingering = linger.beforeBatch();
        if (lingering) {
          await lingering;
          if (!this.active) break;
        }
        this.pendingNudge = false;
        taken = await this.o.pass();
        failures = 0;
      } catch (error) {
        failures++;
        await this.o.onFailure(error, failures);
        await this.idle(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
        continue;
      }
      const more = this.o.fullPass === undefined ? taken > 0 : taken >= this.o.fullPass;
      if (more || this.pendingNudge) continue;
      await this.idle(this.o.pollIntervalMs);
    }
  }

  /** Waits, cut short by nudge() or stop(); not at all once stopped (a stop during a pass must not wait a poll interval). */
  private async idle(ms: number): Promise<void> {
    if (!this.active) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => (clearTimeout(timer), resolve());
    });
    this.wake = undefined;
  }
}
