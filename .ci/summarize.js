// Reads jest's --json results of one or more runs (arguments "label=path") and prints, per run, its counts and
// whether the PostgreSQL tests ran, then the total as the last line, "N passed, M failed". Exits 1 when a run
// wrote no results, ran no test, had a failure, or skipped a PostgreSQL test (they must run in CI).
const fs = require('node:fs');

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf('=');
  const label = arg.slice(0, at);
  const file = arg.slice(at + 1);
  if (!fs.existsSync(file) || fs.statSync(file).size === 0) {
    problems.push(`${label}: jest wrote no results`);
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const all = r.testResults.flatMap((f) => f.assertionResults);
  // The PostgreSQL tests are the ones whose describe/it names say so; without TEST_DATABASE_URL they skip.
  const pg = all.filter((t) => /postgres/i.test(t.fullName));
  const pgPassed = pg.filter((t) => t.status === 'passed').length;
  const pgSkipped = pg.filter((t) => t.status !== 'passed' && t.status !== 'failed').length;
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${label}, PostgreSQL tests: ${pgPassed} passed, ${pgSkipped} skipped`);
  console.log(`${label}, all tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += skipped;
  if (r.numTotalTests === 0 || r.numPassedTests === 0) problems.push(`${label}: no test ran`);
  if (r.numFailedTests > 0 || r.numFailedTestSuites > 0 || r.numRuntimeErrorTestSuites > 0)
    problems.push(`${label}: ${r.numFailedTests} tests and ${r.numFailedTestSuites} test files failed`);
  if (pgPassed === 0 || pgSkipped > 0) problems.push(`${label}: the PostgreSQL tests did not all run`);
}
if (process.argv.length <= 2) problems.push('no test run to summarize');

for (const problem of problems) console.log(problem);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(problems.length > 0 ? 1 : 0);
