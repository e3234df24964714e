#!/usr/bin/env node
// Sums vitest JSON reports into the one line CI reads: "N passed, N failed".
// A missing or unreadable report counts as a failure: a run that never reported did not pass.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const files = process.argv.slice(2);
for (const file of files) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    if (report.numTotalTests === 0) failed++;
    console.log(
      `${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
    );
  } catch (err) {
    console.log(`${file}: no report (${err.message})`);
    failed++;
  }
}
if (files.length < 2) failed++;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
