import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { kvBufferAttentionMask, kvBufferCapacity, storeNewPositions } from './kv-buffer.js';
import { type VideoLlavaCache, emptyCache, gatherCache } from './kv-cache.js';

const ROWS = 2;
const HEADS = 3;
const WIDTH = 4;

/** New keys `[rows, heads, width, count]` whose values name their row, head, absolute position and lane. */
function fresh(from: number, count: number): Tensor<'float32'> {
  const data = new Float32Array(ROWS * HEADS * count * WIDTH);
  for (let row = 0; row < ROWS; row++) {
    for (let head = 0; head < HEADS; head++) {
      for (let lane = 0; lane < WIDTH; lane++) {
        for (let position = 0; position < count; position++)
          data[((row * HEADS + head) * WIDTH + lane) * count + position] =
            row * 1e6 + head * 1e4 + (from + position) * 10 + lane;
      }
    }
  }
  return new Tensor('float32', data, [ROWS, HEADS, WIDTH, count]);
}

/** The value {@link fresh} writes for a row, head, position and lane. */
const expected = (row: number, head: number, position: number, lane: number) =>
  row * 1e6 + head * 1e4 + position * 10 + lane;

/** Checks every filled position of the (channel-major) cache holds what {@link fresh} wrote for it. */
function expectFilled(cache: VideoLlavaCache): void {
  const tensor = cache.tensors.k as Tensor<'float32'>;
  const [rows, heads, width, capacity] = tensor.dims as [number, number, number, number];
  expect(cache.positionAxis).toBe(3);
  expect(capacity).toBeGreaterThanOrEqual(cache.length);
  for (let row = 0; row < rows; row++) {
    for (let head = 0; head < heads; head++) {
      for (let position = 0; position < cache.length; position++) {
        for (let lane = 0; lane < width; lane++) {
          expect(tensor.data[((row * heads + head) * width + lane) * capacity + position]).toBe(
            expected(row, head, position, lane),
          );
        }
      }
    }
  }
}

const empty = () => emptyCache(['k'], { k: 'float32' }, ROWS, HEADS, WIDTH, 3);

describe('key/value buffers', () => {
  it('capacity: at least the need, 1/8 more (at least 64) rounded to 64, never past the limit', () => {
    expect(kvBufferCapacity(10, 4096)).toBe(128);
    expect(kvBufferCapacity(274, 4096)).toBe(384);
    expect(kvBufferCapacity(2074, 4096)).toBe(2368);
    expect(kvBufferCapacity(4090, 4096)).toBe(4096);
    expect(kvBufferCapacity(5000, 4096)).toBe(5000);
  });

  it('writes a prefill and then single steps in place, widening the capacity inside the same buffer', () => {
    let cache = empty();
    cache = storeNewPositions(cache, { k: fresh(0, 60) }, 1000);
    expect(cache.length).toBe(60);
    expect(cache.tensors.k!.dims).toEqual([ROWS, HEADS, WIDTH, 128]);
    expectFilled(cache);
    const buffer = (cache.tensors.k as Tensor<'float32'>).data.buffer;
    for (let position = 60; position < 200; position++) {
      cache = storeNewPositions(cache, { k: fresh(position, 1) }, 1000);
      // Allocated once for 1000 positions: widening re-lays the rows in the same memory.
      expect((cache.tensors.k as Tensor<'float32'>).data.buffer).toBe(buffer);
    }
    expect(cache.length).toBe(200);
    expect(cache.tensors.k!.dims[3]).toBe(kvBufferCapacity(129, 1000));
    expectFilled(cache);
  });

  it('moves a cache without room (a gathered prefix) into a new buffer', () => {
    let cache = storeNewPositions(empty(), { k: fresh(0, 5) }, 8);
    // Past the 8 positions it was allocated for.
    cache = storeNewPositions(cache, { k: fresh(5, 10) }, 8);
    expect(cache.length).toBe(15);
    expectFilled(cache);
  });

  it('gathers rows and a prefix of a channel-major cache, keeping its layout without the unfilled capacity', async () => {
    let cache = storeNewPositions(empty(), { k: fresh(0, 7) }, 100);
    expect(cache.tensors.k!.dims[3]).toBeGreaterThan(7);
    const gathered = await gatherCache(cache, [1, 0, 1], 5);
    expect(gathered).toMatchObject({ rows: 3, length: 5, positionAxis: 3 });
    const tensor = gathered.tensors.k as Tensor<'float32'>;
    expect(tensor.dims).toEqual([3, HEADS, WIDTH, 5]);
    [1, 0, 1].forEach((from, row) => {
      for (let head = 0; head < HEADS; head++)
        for (let lane = 0; lane < WIDTH; lane++)
          for (let position = 0; position < 5; position++)
            expect(tensor.data[((row * HEADS + head) * WIDTH + lane) * 5 + position]).toBe(
              expected(from, head, position, lane),
            );
    });
    // A gathered cache has no room: the next positions move it into a buffer of its own.
    cache = storeNewPositions(await gatherCache(cache, [0, 1], 5), { k: fresh(5, 1) }, 100);
    expect(cache.length).toBe(6);
    expectFilled(cache);
  });

  it('refuses new values of another shape or a cache in the present layout, naming the tensor', () => {
    const cache = storeNewPositions(empty(), { k: fresh(0, 3) }, 100);
    const wrong = new Tensor('float32', new Float32Array(ROWS * HEADS * WIDTH), [ROWS, HEADS, 1, WIDTH]);
    expect(() => storeNewPositions(cache, { k: wrong }, 100)).toThrow(/for k to store in a \[2, 3, 4, 100\] cache/);
    const present = emptyCache(['k'], { k: 'float32' }, ROWS, HEADS, WIDTH);
    expect(() => storeNewPositions(present, { k: fresh(0, 1) }, 100)).toThrow(
      /channel-major|\[rows, heads, width, new\]/,
    );
  });

  it('the decoder mask: the filled positions, zeros over the unfilled capacity, then the new positions', () => {
    const mask = new Tensor('int64', BigInt64Array.from([0, 1, 1, 1, 1, 1, 1, 1].map(BigInt)), [2, 4]);
    const wide = kvBufferAttentionMask(mask, 3, 5);
    expect(wide.dims).toEqual([2, 6]);
    expect(Array.from(wide.data, Number)).toEqual([0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1]);
  });
});
