import { describe, expect, it } from 'vitest';
import { Tensor, VideoLlavaError, stackTensors } from './index.js';

describe('Tensor', () => {
  it('keeps dtype, dims and data, and views rows without copying', () => {
    const tensor = new Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(tensor.size).toBe(6);
    expect(tensor.rank).toBe(2);
    const row = tensor.at(1);
    expect([...row.data]).toEqual([4, 5, 6]);
    row.data[0] = 40;
    expect(tensor.data[3]).toBe(40);
    expect(tensor.toString()).toBe('float32[2,3]');
  });

  it('refuses data whose length disagrees with dims, naming both', () => {
    const error = (() => {
      try {
        new Tensor('int64', new BigInt64Array(5), [2, 3]);
      } catch (caught) {
        return caught;
      }
    })();
    expect(VideoLlavaError.isInstance(error)).toBe(true);
    expect((error as VideoLlavaError).code).toBe('SHAPE_MISMATCH');
    expect((error as VideoLlavaError).message).toContain('5 elements');
    expect((error as VideoLlavaError).expected).toBe(6);
  });

  it('refuses a typed array of the wrong kind', () => {
    expect(() => new Tensor('float32', new Float64Array(2) as unknown as Float32Array, [2])).toThrowError(/float32/);
  });

  it('stacks along a new axis and names the row that disagrees', () => {
    const a = new Tensor('uint8', new Uint8Array([1, 2]), [2]);
    const b = new Tensor('uint8', new Uint8Array([3, 4]), [2]);
    const stacked = stackTensors([a, b]);
    expect(stacked.dims).toEqual([2, 2]);
    expect([...stacked.data]).toEqual([1, 2, 3, 4]);
    expect(() => stackTensors([a, new Tensor('uint8', new Uint8Array(3), [3])], 'images')).toThrowError(/images\[1\]/);
  });
});
