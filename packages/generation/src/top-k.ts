import { VideoLlavaError, describeValue } from '@video-llava/core';

/** The `k` largest values of each row and where they are, best first. */
export interface TopKResult {
  /** `indices[row][rank]`: the position in the row (the token id). */
  indices: number[][];
  /** `values[row][rank]`: the value there. */
  values: number[][];
}

/**
 * Indices of the `count` largest values of `values[start, start + length)`, largest first; equal values keep the
 * lower index first. Runs in one pass (`O(length * count)` worst case, about `O(length)` for small `count`).
 *
 * @internal used by the processors, beam search and {@link topK}
 */
export function selectTopIndices(values: ArrayLike<number>, start: number, length: number, count: number): Int32Array {
  const size = Math.min(count, length);
  const best = new Int32Array(size);
  const bestValues = new Float64Array(size);
  let filled = 0;
  for (let offset = 0; offset < length; offset++) {
    const value = values[start + offset]!;
    if (filled === size) {
      // Strictly greater: an equal value found later ranks after the ones already kept.
      if (!(value > bestValues[size - 1]!)) continue;
      filled--;
    }
    let position = filled;
    while (position > 0 && value > bestValues[position - 1]!) {
      best[position] = best[position - 1]!;
      bestValues[position] = bestValues[position - 1]!;
      position--;
    }
    best[position] = offset;
    bestValues[position] = value;
    filled++;
  }
  return filled === size ? best : best.subarray(0, filled);
}

/**
 * The `k` largest values of each row of a `[rows, width]` row-major array, largest first, ties broken by the lower
 * index (what `torch.topk` returns for distinct values). Handy in `onStep` hooks to compare per-step top-5 tokens
 * with a reference.
 *
 * @param values the rows, e.g. a step's `scores` or `logits`
 * @param k how many to keep per row (at most `width`)
 * @param rows number of rows
 * @default rows 1
 */
export function topK(values: Float32Array, k: number, rows = 1): TopKResult {
  if (!Number.isSafeInteger(rows) || rows < 1 || values.length % rows !== 0) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `topK: rows must be a positive integer dividing values.length (${values.length}), found ${describeValue(rows)}.`,
      {
        field: 'rows',
        expected: `a divisor of ${values.length}`,
        actual: rows,
      },
    );
  }
  const width = values.length / rows;
  if (!Number.isSafeInteger(k) || k < 1 || k > width) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `topK: k must be an integer in [1, ${width}], found ${describeValue(k)}.`,
      {
        field: 'k',
        expected: `an integer in [1, ${width}]`,
        actual: k,
      },
    );
  }
  const result: TopKResult = { indices: [], values: [] };
  for (let row = 0; row < rows; row++) {
    const indices = Array.from(selectTopIndices(values, row * width, width, k));
    result.indices.push(indices);
    result.values.push(indices.map((index) => values[row * width + index]!));
  }
  return result;
}
