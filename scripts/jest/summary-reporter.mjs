// The run's very last line, in the plain form CI and people read at a glance:
//   Tests: 565 passed, 0 failed, 1 skipped
// A file that could not run at all counts as one failure. Printed as the process exits, after
// jest's own summary.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const brokenFiles = results.testResults.filter((r) => r.testExecError && r.numFailingTests === 0).length;
    const failed = results.numFailedTests + brokenFiles;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `Tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
