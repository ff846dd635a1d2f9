// Re-renders a saved `pnpm bench 7b` result as markdown (and, with --readme, into bench/README.md):
//   node --import tsx real/render.ts bench/results/7b-t32-<date>.json [--readme]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './paths.js';
import { type RunReport, renderMarkdown, writeReadmeSection } from './report.js';

const file = process.argv[2];
if (!file) throw new Error('usage: real/render.ts <results json> [--readme]');
const markdown = renderMarkdown(JSON.parse(readFileSync(file, 'utf8')) as RunReport);
process.stdout.write(`${markdown}\n`);
if (process.argv.includes('--readme')) writeReadmeSection(join(BENCH_DIR, 'README.md'), markdown);
