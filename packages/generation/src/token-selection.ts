import { softmaxInto } from './float32-softmax.js';
import type { RandomGenerator } from './philox-random.js';

/** Index of the largest value of `row`, the first one on ties (`torch.argmax`). */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = row[0]!;
  for (let index = 1; index < row.length; index++) {
    if (row[index]! > bestValue) {
      bestValue = row[index]!;
      best = index;
    }
  }
  return best;
}

/**
 * Draws a token from `softmax(row)` (float32, as `torch.softmax`) by inverting the cumulative distribution with
 * one uniform number; tokens with probability 0 (score `-Infinity`) are never drawn.
 *
 * @param probabilities scratch space of `row.length`
 * @returns the token, or -1 when no token has a positive probability
 */
export function sampleToken(row: Float32Array, probabilities: Float32Array, random: RandomGenerator): number {
  const uniform = random.nextFloat();
  softmaxInto(row, probabilities);
  let total = 0;
  for (let index = 0; index < probabilities.length; index++) total += probabilities[index]! || 0;
  if (!(total > 0)) return -1;
  const target = uniform * total;
  let cumulative = 0;
  let last = -1;
  for (let index = 0; index < probabilities.length; index++) {
    const probability = probabilities[index]!;
    if (!(probability > 0)) continue;
    cumulative += probability;
    last = index;
    if (cumulative > target) return index;
  }
  return last;
}
