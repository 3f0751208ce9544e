#!/usr/bin/env node
// Prints vitest's JSON report as one closing line, `N passed, N failed`, for CI logs.
import fs from 'node:fs';

const file = process.argv[2] ?? '.vitest-report.json';
if (!fs.existsSync(file)) {
  process.stderr.write(`No test report at ${file}: the tests did not run.\n`);
  process.exit(1);
}
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
process.stdout.write(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
