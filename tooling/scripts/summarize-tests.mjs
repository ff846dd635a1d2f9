// Sums vitest's per-package "Tests  N passed | M failed" lines from a turbo log into one closing line
// ("N passed, M failed"), so a CI reader sees the whole run's count. The exit code stays turbo's.
import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

const log = stripVTControlCharacters(readFileSync(process.argv[2], 'utf8'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let packages = 0;
for (const line of log.split('\n')) {
  const match = /^\S+:test:\s+Tests\s+(.*)$/.exec(line);
  if (!match) continue;
  packages++;
  for (const [, count, kind] of match[1].matchAll(/(\d+) (passed|failed|skipped)/g)) totals[kind] += Number(count);
}
process.stdout.write(`[tests] ${packages} packages\n`);
process.stdout.write(
  `tests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`,
);
