import { describe, expect, it } from 'vitest';
import { logSoftmaxInto, softmaxInto } from './float32-softmax.js';

describe('softmaxInto / logSoftmaxInto', () => {
  it('computes ln(1/4), ln(3/4) for logits [0, ln 3]', () => {
    const row = new Float32Array([0, Math.log(3)]);
    const out = new Float32Array(2);
    logSoftmaxInto(row, out);
    expect(out[0]).toBeCloseTo(Math.log(0.25), 6);
    expect(out[1]).toBeCloseTo(Math.log(0.75), 6);
    const largest = softmaxInto(row, out);
    expect(out[0]).toBeCloseTo(0.25, 6);
    expect(out[1]).toBeCloseTo(0.75, 6);
    expect(largest).toBe(out[1]);
  });

  it('is shift invariant and within a float32 ulp of a float64 computation on a wide row', () => {
    const width = 32064;
    const row = new Float32Array(width);
    for (let index = 0; index < width; index++) row[index] = Math.sin(index * 0.37) * 12 + (index % 7);
    const logProbabilities = new Float32Array(width);
    logSoftmaxInto(row, logProbabilities);
    let maximum = -Infinity;
    for (const value of row) maximum = Math.max(maximum, value);
    let sum = 0;
    for (const value of row) sum += Math.exp(value - maximum);
    const logSum = Math.log(sum);
    let worst = 0;
    for (let index = 0; index < width; index++) {
      const exact = row[index]! - maximum - logSum;
      worst = Math.max(worst, Math.abs(logProbabilities[index]! - exact) / Math.max(1, Math.abs(exact)));
    }
    expect(worst).toBeLessThan(4e-7);
    const probabilities = new Float32Array(width);
    softmaxInto(row, probabilities);
    expect(probabilities.reduce((total, value) => total + value, 0)).toBeCloseTo(1, 5);
  });

  it('gives probability 0 and log-probability -Infinity to -Infinity scores', () => {
    const row = new Float32Array([1, -Infinity, 1]);
    const out = new Float32Array(3);
    softmaxInto(row, out);
    expect(Array.from(out)).toEqual([0.5, 0, 0.5]);
    logSoftmaxInto(row, out);
    expect(out[1]).toBe(-Infinity);
    expect(out[0]).toBeCloseTo(Math.log(0.5), 6);
  });
});
