import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { kvBufferAttentionMask, kvBufferCapacity, storeNewPositions } from './kv-buffer.js';
import { type VideoLlavaCache, emptyCache } from './kv-cache.js';

const ROWS = 2;
const HEADS = 3;
const WIDTH = 4;

/** New keys `[rows, heads, count, width]` whose values name their row, head, absolute position and lane. */
function fresh(from: number, count: number): Tensor<'float32'> {
  const data = new Float32Array(ROWS * HEADS * count * WIDTH);
  for (let row = 0; row < ROWS; row++) {
    for (let head = 0; head < HEADS; head++) {
      for (let position = 0; position < count; position++) {
        for (let lane = 0; lane < WIDTH; lane++)
          data[((row * HEADS + head) * count + position) * WIDTH + lane] =
            row * 1e6 + head * 1e4 + (from + position) * 10 + lane;
      }
    }
  }
  return new Tensor('float32', data, [ROWS, HEADS, count, WIDTH]);
}

/** Checks every filled position of the cache holds what {@link fresh} wrote for it. */
function expectFilled(cache: VideoLlavaCache): void {
  const tensor = cache.tensors.k as Tensor<'float32'>;
  const [rows, heads, capacity, width] = tensor.dims as [number, number, number, number];
  expect(capacity).toBeGreaterThanOrEqual(cache.length);
  for (let row = 0; row < rows; row++) {
    for (let head = 0; head < heads; head++) {
      for (let position = 0; position < cache.length; position++) {
        for (let lane = 0; lane < width; lane++) {
          expect(tensor.data[((row * heads + head) * capacity + position) * width + lane]).toBe(
            row * 1e6 + head * 1e4 + position * 10 + lane,
          );
        }
      }
    }
  }
}

describe('key/value buffers', () => {
  it('capacity: at least the need, 1/8 more (at least 64) rounded to 64, never past the limit', () => {
    expect(kvBufferCapacity(10, 4096)).toBe(128);
    expect(kvBufferCapacity(274, 4096)).toBe(384);
    expect(kvBufferCapacity(2074, 4096)).toBe(2368);
    expect(kvBufferCapacity(4090, 4096)).toBe(4096);
    expect(kvBufferCapacity(5000, 4096)).toBe(5000);
  });

  it('writes a prefill and then single steps in place, widening the capacity inside the same buffer', () => {
    let cache = emptyCache(['k'], { k: 'float32' }, ROWS, HEADS, WIDTH);
    cache = storeNewPositions(cache, { k: fresh(0, 60) }, 1000);
    expect(cache.length).toBe(60);
    expect(cache.tensors.k!.dims).toEqual([ROWS, HEADS, 128, WIDTH]);
    expectFilled(cache);
    const buffer = (cache.tensors.k as Tensor<'float32'>).data.buffer;
    for (let position = 60; position < 200; position++) {
      cache = storeNewPositions(cache, { k: fresh(position, 1) }, 1000);
      // Allocated once for 1000 positions: widening re-lays the rows in the same memory.
      expect((cache.tensors.k as Tensor<'float32'>).data.buffer).toBe(buffer);
    }
    expect(cache.length).toBe(200);
    expect(cache.tensors.k!.dims[2]).toBe(kvBufferCapacity(129, 1000));
    expectFilled(cache);
  });

  it('moves a cache without room (a gathered prefix) into a new buffer', () => {
    let cache = storeNewPositions(emptyCache(['k'], { k: 'float32' }, ROWS, HEADS, WIDTH), { k: fresh(0, 5) }, 8);
    // Past the 8 positions it was allocated for.
    cache = storeNewPositions(cache, { k: fresh(5, 10) }, 8);
    expect(cache.length).toBe(15);
    expectFilled(cache);
  });

  it('the decoder mask: the filled positions, zeros over the unfilled capacity, then the new positions', () => {
    const mask = new Tensor('int64', BigInt64Array.from([0, 1, 1, 1, 1, 1, 1, 1].map(BigInt)), [2, 4]);
    const wide = kvBufferAttentionMask(mask, 3, 5);
    expect(wide.dims).toEqual([2, 6]);
    expect(Array.from(wide.data, Number)).toEqual([0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1]);
  });
});
