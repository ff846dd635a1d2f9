/**
 * One line of `pnpm bench`. Speed is reported as a ratio against a peer or a ceiling measured in the same
 * run (machines are noisy); absolute numbers are printed for context only.
 */
export interface BenchRow {
  /** What was measured, e.g. `image preprocess: ours vs sharp resize`. */
  name: string;
  /** The measured value (e.g. images per second, milliseconds). */
  value: number;
  /** Unit of `value`. */
  unit: string;
  /** The peer or ceiling measured in the same run, when there is one. */
  peer?: { name: string; value: number };
  /** value / peer.value (or the inverse, as `ratioMeaning` says). */
  ratio?: number;
  /** How to read the ratio, e.g. `ours / sharp (higher is better)`. */
  ratioMeaning?: string;
  note?: string;
}

/** A benchmark file (`bench/<topic>.bench.ts`) default-exports one of these. */
export type BenchSuite = {
  /** Section title. */
  title: string;
  run(): Promise<BenchRow[]>;
};

/** The median of `values` (the upper one of the middle two for an even count); `values` is left as it was. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median of repeated timings of `fn` in milliseconds, after `warmup` untimed runs. */
export async function medianMs(fn: () => unknown | Promise<unknown>, repeats = 9, warmup = 2): Promise<number> {
  for (let index = 0; index < warmup; index++) await fn();
  const times: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}
