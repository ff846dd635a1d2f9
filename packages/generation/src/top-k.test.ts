import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { topK } from './top-k.js';

describe('topK', () => {
  it('returns the k best per row, best first, the lower index first on ties', () => {
    const values = new Float32Array([1, 5, 3, 5, 0, /* row 1 */ -1, -2, -Infinity, 7, -1]);
    const result = topK(values, 3, 2);
    expect(result.indices).toEqual([
      [1, 3, 2],
      [3, 0, 4],
    ]);
    expect(result.values).toEqual([
      [5, 5, 3],
      [7, -1, -1],
    ]);
  });

  it('refuses k outside [1, width] and rows that do not divide the length', () => {
    const values = new Float32Array(6);
    for (const [k, rows, field] of [
      [0, 1, 'k'],
      [7, 1, 'k'],
      [1, 4, 'rows'],
    ] as const) {
      try {
        topK(values, k, rows);
        expect.unreachable();
      } catch (error) {
        expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
        expect((error as VideoLlavaError).field).toBe(field);
      }
    }
  });
});
