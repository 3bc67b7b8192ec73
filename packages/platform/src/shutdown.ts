/**
 * How a Roster process stops on a signal (one service, or the embedded stack of four):
 * - the first SIGINT/SIGTERM starts the graceful stop, which has `timeoutMs` in all
 *   (SHUTDOWN_TIMEOUT_MS); past it the process exits anyway, with status 1 and a line that says so;
 * - a second signal exits at once (status 130 for SIGINT, 143 for SIGTERM);
 * - a closed stdout or stderr (the reader of our logs went away: EPIPE) never stops a stop: log
 *   lines written there are dropped instead of raising an error nobody handles.
 */
export interface ShutdownOptions {
  /** The graceful stop. */
  stop(): Promise<void>;
  /** The whole stop's budget (SHUTDOWN_TIMEOUT_MS). */
  timeoutMs: number;
  /** Where the process says what it is doing (stderr by default). */
  say?(line: string): void;
  /** process.exit, replaceable in tests. */
  exit?(code: number): void;
  /** The signals to handle (default SIGINT and SIGTERM). */
  signals?: readonly NodeJS.Signals[];
}

const CODE: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function stopOnSignals(o: ShutdownOptions): { stop(reason: string): void } {
  const say = o.say ?? ((line: string) => void writeQuietly(process.stderr, `${line}\n`));
  const exit = o.exit ?? ((code: number) => process.exit(code));
  ignoreBrokenPipes();
  let stopping = false;
  const stopNow = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    say(`${reason}: stopping (at most ${o.timeoutMs} ms; send the signal again to exit at once)`);
    // Not unref'd: this timer is what guarantees the exit if some stage never settles.
    const deadline = setTimeout(() => {
      say(`did not stop within ${o.timeoutMs} ms (SHUTDOWN_TIMEOUT_MS): exiting now`);
      exit(1);
    }, o.timeoutMs);
    o.stop().then(
      () => {
        clearTimeout(deadline);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        say(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
        exit(1);
      },
    );
  };
  for (const signal of o.signals ?? (['SIGINT', 'SIGTERM'] as const)) {
    process.on(signal, () => {
      if (!stopping) return stopNow(signal);
      say(`${signal} again: exiting now`);
      exit(CODE[signal] ?? 1);
    });
  }
  return { stop: stopNow };
}

function writeQuietly(stream: NodeJS.WriteStream, text: string): void {
  try {
    if (!stream.destroyed && stream.writable) stream.write(text);
  } catch {
    // the reader is gone
  }
}

let pipesGuarded = false;
/** EPIPE and friends on our own stdout/stderr are the reader's business, not a crash of ours. */
export function ignoreBrokenPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}
