import type { Tensor } from '@video-llava/core';
import { expect } from 'vitest';
import { type RuntimeTensor, isCpuTensor } from '../runtime-tensor.js';
import type { MatMulWeights } from './conformance-models.js';

/** Tolerance for float32 results that involve a sum (MatMul): the order of additions may differ by backend. */
export const FLOAT32_TOLERANCE = 1e-5;

/** `x @ w + bias` of the conformance MatMul models, computed here, for `x` of `x.length / 4` rows. */
function matMulReference(x: ArrayLike<number>, weights: MatMulWeights): number[] {
  const out: number[] = [];
  for (let row = 0; row < x.length / 4; row++) {
    for (let column = 0; column < 3; column++) {
      let sum = weights.bias[column]!;
      for (let inner = 0; inner < 4; inner++) sum += x[row * 4 + inner]! * weights.w[inner * 3 + column]!;
      out.push(sum);
    }
  }
  return out;
}

/**
 * Checks that `y` is the CPU output of a conformance MatMul model (`matmul`, `externalData`) run on `x`:
 * `x @ w + bias`, element by element within {@link FLOAT32_TOLERANCE}.
 *
 * @example
 * const { y } = await session.run({ x: new Tensor('float32', x, [1, 4]) });
 * expectMatMulOutput(y, x, models.weights);
 */
export function expectMatMulOutput(y: RuntimeTensor | undefined, x: ArrayLike<number>, weights: MatMulWeights): void {
  expect(isCpuTensor(y), `expected a CPU tensor, got ${String(y)}`).toBe(true);
  const actual = (y as Tensor).data as Float32Array;
  const expected = matMulReference(x, weights);
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < expected.length; index++) {
    expect(
      Math.abs(actual[index]! - expected[index]!),
      `element ${index}: ${actual[index]} vs ${expected[index]}`,
    ).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
  }
}
