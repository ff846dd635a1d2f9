import { describe, expect, it } from 'vitest';
import { readOrtValueMetadata } from './read-ort-value-metadata.js';

describe('readOrtValueMetadata', () => {
  it('keeps names, types and symbolic shapes, and marks values that are no tensors', () => {
    const shape = ['batch', 3];
    const metadata = readOrtValueMetadata([
      { name: 'x', isTensor: true, type: 'float32', shape },
      { name: 'state', isTensor: false },
    ]);
    expect(metadata).toEqual([
      { name: 'x', dtype: 'float32', shape: ['batch', 3] },
      { name: 'state', dtype: 'non-tensor', shape: [] },
    ]);
    expect(metadata[0]!.shape).not.toBe(shape);
  });
});
