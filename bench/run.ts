import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchSuite } from './types.js';

// `pnpm bench [filter]`: runs every bench/*.bench.ts (or those whose name contains the filter) and prints
// each row with its ratio against the peer measured in the same run.
// Heavy topics run only when named exactly, never by default or in CI: `pnpm bench 7b [options]` (the real
// Video-LLaVA-7B dimensions against the machine's ceilings and the peers, see README.md) and `pnpm bench attention`
// (one decoding step's attention per cache layout and dtype) and `pnpm bench duel` (our decoding step against
// llama.cpp's, both loaded in one process, in alternating bursts) and `pnpm bench cache` (our float32 buffer decoder
// against the int8 cache decoder, the same way).
const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const HEAVY_TOPICS: Record<string, string> = {
  '7b': './real/run-7b.ts',
  attention: './real/attention-layouts.ts',
  duel: './real/decode-duel.ts',
  cache: './real/cache-duel.ts',
};
if (filter !== undefined && HEAVY_TOPICS[filter] !== undefined) {
  await import(HEAVY_TOPICS[filter]);
  process.exit(process.exitCode ?? 0);
}
const files = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => !filter || file.includes(filter))
  .sort();

function format(row: BenchRow): string {
  const value = `${row.value.toPrecision(4)} ${row.unit}`;
  const peer = row.peer ? `  peer ${row.peer.name}: ${row.peer.value.toPrecision(4)} ${row.unit}` : '';
  const ratio =
    row.ratio === undefined ? '' : `  ratio ${row.ratio.toFixed(3)}${row.ratioMeaning ? ` (${row.ratioMeaning})` : ''}`;
  return `  ${row.name}: ${value}${peer}${ratio}${row.note ? `  [${row.note}]` : ''}`;
}

let failed = 0;
const all: Array<{ suite: string; rows: BenchRow[] }> = [];
for (const file of files) {
  const suite = (await import(pathToFileURL(join(here, file)).href)).default as BenchSuite;
  process.stdout.write(`\n# ${suite.title} (${file})\n`);
  try {
    const rows = await suite.run();
    for (const row of rows) process.stdout.write(`${format(row)}\n`);
    all.push({ suite: suite.title, rows });
  } catch (error) {
    failed++;
    process.stdout.write(`  FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
}
if (process.env.BENCH_JSON) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.BENCH_JSON, JSON.stringify(all, null, 2));
}
if (files.length === 0) process.stdout.write('no benchmark files matched\n');
process.exitCode = failed ? 1 : 0;
