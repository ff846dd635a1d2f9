import { describe, expect, it } from 'vitest';
import { VideoLlavaError, describeValue } from './errors.js';

describe('describeValue', () => {
  it('names primitives, long strings and arrays briefly', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(3n)).toBe('3n');
    expect(describeValue('x'.repeat(100))).toMatch(/^"x{77}\.\.\."$/);
    expect(describeValue([1, 2, 3, 4, 5, 6, 7, 8, 9])).toBe('[1, 2, 3, 4, 5, 6, 7, 8, ... (9 items)]');
    expect(describeValue(new Float32Array(4))).toBe('Float32Array(4)');
  });

  it('describes objects holding bigints and typed arrays (int64 tensors) instead of throwing', () => {
    expect(describeValue({ dims: [1n, 2n] })).toBe('{"dims":["1n","2n"]}');
    expect(describeValue({ data: new BigInt64Array(3) })).toBe('{"data":"BigInt64Array(3)"}');
  });

  it('survives cyclic objects', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
  });
});

describe('VideoLlavaError', () => {
  it('keeps its code and data, and is recognised across copies by isInstance', () => {
    const error = new VideoLlavaError('INVALID_ARGUMENT', 'bad', { field: 'x', expected: 'a', actual: 'b' });
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(VideoLlavaError.isInstance(error)).toBe(true);
    expect(VideoLlavaError.isInstance(new Error('bad'))).toBe(false);
  });
});
