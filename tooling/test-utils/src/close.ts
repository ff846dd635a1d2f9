import type { Tensor } from '@video-llava/core';

type Numeric = ArrayLike<number> | ArrayLike<bigint> | Tensor;

/** Where two arrays differ most. */
export interface Difference {
  maxAbsDifference: number;
  /** Flat index of the largest difference (-1 when both are empty). */
  index: number;
  /** The same position as a multi-index, when dims are known. */
  position: number[];
  actual: number;
  expected: number;
  meanAbsDifference: number;
}

function toArray(value: Numeric): { data: ArrayLike<number | bigint>; dims: readonly number[] | undefined } {
  if (typeof value === 'object' && value !== null && 'dims' in value && 'data' in value) {
    return { data: value.data as ArrayLike<number | bigint>, dims: value.dims };
  }
  return { data: value as ArrayLike<number | bigint>, dims: undefined };
}

function unravel(index: number, dims: readonly number[] | undefined): number[] {
  if (!dims || index < 0) return [index];
  const position: number[] = [];
  let rest = index;
  for (let axis = dims.length - 1; axis >= 0; axis--) {
    position.unshift(rest % dims[axis]!);
    rest = Math.floor(rest / dims[axis]!);
  }
  return position;
}

/** Measures the largest absolute difference between two arrays of equal length (NaN counts as infinite). */
export function measureDifference(actual: Numeric, expected: Numeric): Difference {
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.data.length !== e.data.length) {
    throw new Error(
      `length mismatch: actual has ${a.data.length} elements${a.dims ? ` [${a.dims.join(',')}]` : ''}, expected ${e.data.length}${e.dims ? ` [${e.dims.join(',')}]` : ''}`,
    );
  }
  let max = -1;
  let where = -1;
  let sum = 0;
  for (let index = 0; index < a.data.length; index++) {
    const x = Number(a.data[index]);
    const y = Number(e.data[index]);
    let difference = Math.abs(x - y);
    if (Number.isNaN(difference)) difference = x === y || (Number.isNaN(x) && Number.isNaN(y)) ? 0 : Infinity;
    sum += difference;
    if (difference > max) {
      max = difference;
      where = index;
    }
  }
  return {
    maxAbsDifference: Math.max(max, 0),
    index: where,
    position: unravel(where, e.dims ?? a.dims),
    actual: where >= 0 ? Number(a.data[where]) : Number.NaN,
    expected: where >= 0 ? Number(e.data[where]) : Number.NaN,
    meanAbsDifference: a.data.length ? sum / a.data.length : 0,
  };
}

/**
 * Asserts `max |actual - expected| <= tolerance`. On failure the message gives the max abs difference,
 * where it is (flat index and multi-index), both values there, the mean difference and the tolerance.
 * Shapes must agree when both sides are tensors.
 *
 * @returns the measured difference, so a test can report it
 */
export function assertClose(actual: Numeric, expected: Numeric, tolerance: number, label = 'values'): Difference {
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.dims && e.dims && a.dims.join(',') !== e.dims.join(',')) {
    throw new Error(`${label}: shape [${a.dims.join(',')}] differs from the expected [${e.dims.join(',')}]`);
  }
  const difference = measureDifference(actual, expected);
  if (!(difference.maxAbsDifference <= tolerance)) {
    throw new Error(
      `${label}: max abs difference ${difference.maxAbsDifference} > tolerance ${tolerance} at index ${difference.index} ` +
        `[${difference.position.join(',')}] (actual ${difference.actual}, expected ${difference.expected}); ` +
        `mean abs difference ${difference.meanAbsDifference}`,
    );
  }
  return difference;
}
