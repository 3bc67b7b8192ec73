// The jest runner of `npm test`: each spec file runs in a fresh Node process (as Node's test runner
// did before), on the TypeScript sources through tsx with the `roster-source` export condition.
//
// Why not jest's default runner: it runs every file inside a vm sandbox with its own module
// registry. Roster's code needs the real one: OpenTelemetry patches http, express and pg through
// Node's own `require`, PGlite loads WebAssembly, Prisma's tracing and the services' signal handlers
// are process-wide. Inside the child, jest-circus runs the file (the same describe/it/hooks,
// timeouts, expect and reporting as in any jest project: see run-file.mjs).
//
// A fresh process per file keeps files from leaking state into each other (one tracer provider per
// process, open servers, signal handlers). Files run `maxWorkers` at a time (npm test passes
// TEST_CONCURRENCY, default 1: some suites restart the test brokers).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./run-file.mjs', import.meta.url));
const hooks = new URL('./hooks.mjs', import.meta.url).href;
/** A file that has not reported after this long is killed and reported as failed. */
const FILE_DEADLINE_MS = Number(process.env.TEST_FILE_DEADLINE_MS ?? 20 * 60_000);

export default class FreshProcessRunner {
  #globalConfig;

  constructor(globalConfig) {
    this.#globalConfig = globalConfig;
  }

  async runTests(tests, _watcher, onStart, onResult, onFailure) {
    const queue = [...tests];
    const width = Math.max(1, this.#globalConfig.maxWorkers ?? 1);
    const lane = async () => {
      for (let test = queue.shift(); test; test = queue.shift()) {
        await onStart(test);
        try {
          await onResult(test, await this.#runFile(test));
        } catch (error) {
          await onFailure(test, { message: error.message, stack: error.stack ?? error.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, tests.length) }, lane));
  }

  #runFile(test) {
    return new Promise((resolve, reject) => {
      const proc = fork(child, [], {
        execArgv: ['--conditions=roster-source', '--import', 'tsx', '--import', hooks],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' },
      });
      let stderrTail = '';
      proc.stderr.on('data', (chunk) => {
        process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk.toString()).slice(-8_000);
      });
      let result;
      const deadline = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${test.path} did not finish within ${FILE_DEADLINE_MS} ms (TEST_FILE_DEADLINE_MS); killed`));
      }, FILE_DEADLINE_MS);
      // The configuration goes once the child listens: a message sent before its listener exists
      // (it is still loading tsx and jest-circus) is dropped, and the child would wait forever.
      proc.on('message', (message) => {
        if (message?.type === 'ready') proc.send({ type: 'run', testPath: test.path, globalConfig: this.#globalConfig, projectConfig: test.context.config });
        if (message?.type === 'result') result = message.result;
      });
      proc.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      proc.on('exit', (code, signal) => {
        clearTimeout(deadline);
        if (result) resolve(result);
        else reject(new Error(`${test.path}: the test process exited (${signal ?? `code ${code}`}) before reporting\n${stderrTail}`));
      });
    });
  }
}
