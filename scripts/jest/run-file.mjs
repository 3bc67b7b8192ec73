// One spec file in its own process, run by jest-circus as jest itself runs it (jestAdapterInit:
// globals, timeouts, hook semantics, expect state, snapshot state, failure formatting), minus the
// vm sandbox. The parent (runner.mjs) sends the configuration; the result goes back over IPC.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
// jest-circus's adapter is not in its package exports; it is the module jest's own runner loads.
const adapter = require(require.resolve('jest-circus/runner').replace(/runner\.js$/, 'jestAdapterInit.js'));

const { testPath, globalConfig, projectConfig } = await new Promise((resolve) => {
  process.once('message', resolve);
  process.send({ type: 'ready' }); // the parent sends the configuration only now (runner.mjs)
});

/** Unhandled errors outside any test still fail the file, as under Node's test runner. */
const stray = [];
const remember = (error) => stray.push(error instanceof Error ? error : new Error(String(error)));
process.on('uncaughtException', remember);
process.on('unhandledRejection', remember);

const started = Date.now();
let result;
try {
  await adapter.initialize({
    config: projectConfig,
    environment: { global: globalThis },
    // jest-runtime's hooks for tracking test code; there is no module sandbox to tell.
    runtime: { enterTestCode() {}, leaveTestCode() {} },
    globalConfig,
    localRequire: require,
    parentProcess: process,
    sendMessageToJest: undefined,
    setGlobalsForRuntime: (globals) => {
      globalThis[Symbol.for('roster.jest.globals')] = globals;
    },
    testPath,
  });
  await import(pathToFileURL(testPath).href);
  const loaded = Date.now();
  result = await adapter.runAndTransformResultsToJestFormat({
    config: projectConfig,
    globalConfig,
    setupAfterEnvPerfStats: {},
    testPath,
  });
  result.perfStats = { ...result.perfStats, start: started, loadTestsDuration: loaded - started, end: Date.now(), runtime: Date.now() - started };
} catch (error) {
  result = {
    testFilePath: testPath,
    numFailingTests: 0, numPassingTests: 0, numPendingTests: 0, numTodoTests: 0,
    testResults: [],
    testExecError: { message: error?.message ?? String(error), stack: error?.stack ?? String(error) },
    failureMessage: `  ● Test suite failed to run\n\n    ${(error?.stack ?? String(error)).replace(/\n/g, '\n    ')}`,
    perfStats: { start: started, end: Date.now(), runtime: Date.now() - started, slow: false },
    snapshot: { added: 0, fileDeleted: false, matched: 0, unchecked: 0, uncheckedKeys: [], unmatched: 0, updated: 0 },
    leaks: false, openHandles: [], skipped: false, displayName: undefined, console: undefined,
  };
}
if (stray.length > 0) {
  const text = stray.map((e) => e.stack ?? e.message).join('\n\n');
  result.testExecError ??= { message: 'unhandled error outside a test', stack: text };
  result.failureMessage = `${result.failureMessage ?? ''}\n\n  ● unhandled error outside a test\n\n    ${text.replace(/\n/g, '\n    ')}`;
  result.numFailingTests += 1;
}
// Exit once the result is out: a handle a file left open must not keep the run waiting.
process.send({ type: 'result', result }, () => process.exit(0));
