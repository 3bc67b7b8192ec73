/**
 * The linger every batcher of the platform shares (issue 19: consumers, the outbox relay, the
 * revocation feed's not-before writes). Work that arrives evenly spread (independent users, not a
 * burst) would otherwise go one item per transaction, and those commits alone saturate the machine
 * below the rate it sustains with large batches. So while busy — the last batch began within four
 * lingers — a batch waits `ms` for more before it begins; after a quiet spell it begins at once,
 * and a lone item is never delayed.
 */
export class BusyLinger {
  private lastBegan = -Infinity;

  constructor(private readonly ms: number) {}

  /**
   * Counts a batch as begun; when busy (and the batch is not already `full`), returns the wait to
   * await first — otherwise nothing, so that an idle caller goes on in the same turn.
   */
  beforeBatch(full = false): Promise<void> | undefined {
    const busy = this.ms > 0 && !full && performance.now() - this.lastBegan < 4 * this.ms;
    this.lastBegan = performance.now() + (busy ? this.ms : 0);
    return busy ? new Promise((resolve) => setTimeout(resolve, this.ms)) : undefined;
  }
}
