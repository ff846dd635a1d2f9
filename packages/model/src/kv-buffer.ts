import { Tensor, VideoLlavaError } from '@video-llava/core';
import { type VideoLlavaCache, cachePositionAxis } from './kv-cache.js';

/**
 * The key/value cache of a decoder with the buffer layout (`decoder_kv_buffer*.onnx`: `past_key_values.*` in,
 * `new_key_values.*` out). Each `past_key_values.{i}.key|value` tensor of a {@link VideoLlavaCache} is a float32
 * view `[rows, kvHeads, headDim, capacity]` (channel-major: positions last, `positionAxis` 3) over a buffer the model
 * owns; positions `length..capacity` are unfilled and masked out. A step writes its new positions in place, so no
 * step copies or returns the whole cache.
 *
 * The buffers are allocated once for `maxPositions` positions per row (the operating system only backs the pages
 * written to), and the capacity the decoder sees grows inside them: a view of all `maxPositions` would make every
 * step attend over positions that hold nothing, so the capacity stays a little above the filled length and is widened
 * in place (each channel's run of positions moved to its new stride) when it runs out.
 */

/** The capacity to give `needed` positions: room for 1/8 more (at least 64 positions), at most `limit`. */
export function kvBufferCapacity(needed: number, limit: number): number {
  const room = Math.max(64, Math.ceil(needed / 8));
  return Math.max(needed, Math.min(limit, Math.ceil((needed + room) / 64) * 64));
}

/** The whole typed array a tensor views (its buffer from the view's start). */
function backing(view: Float32Array): Float32Array {
  return new Float32Array(
    view.buffer,
    view.byteOffset,
    (view.buffer.byteLength - view.byteOffset) / Float32Array.BYTES_PER_ELEMENT,
  );
}

/**
 * Re-lays `runs` runs of `filled` values from stride `from` to the larger stride `to`, in place (the last run first,
 * so nothing is overwritten before it is moved).
 */
function restride(data: Float32Array, runs: number, filled: number, from: number, to: number): void {
  for (let run = runs - 1; run >= 0; run--) data.copyWithin(run * to, run * from, run * from + filled);
}

/** Copies `runs` runs of `filled` values from stride `from` in `source` to stride `to` in `target`. */
function copyRuns(
  source: Float32Array,
  target: Float32Array,
  runs: number,
  filled: number,
  from: number,
  to: number,
): void {
  for (let run = 0; run < runs; run++) target.set(source.subarray(run * from, run * from + filled), run * to);
}

/**
 * The attention mask a buffer-layout decoder takes: `[rows, capacity + newLength]`, the filled positions as the
 * caller's mask has them, the unfilled capacity masked, then the new positions.
 *
 * @param attentionMask int64 `[rows, length + newLength]`, as the decoding loop passes it
 */
export function kvBufferAttentionMask(
  attentionMask: Tensor<'int64'>,
  length: number,
  capacity: number,
): Tensor<'int64'> {
  const [rows, total] = attentionMask.dims as [number, number];
  const newLength = total - length;
  const out = new BigInt64Array(rows * (capacity + newLength));
  for (let row = 0; row < rows; row++) {
    const from = attentionMask.data.subarray(row * total, (row + 1) * total);
    const at = row * (capacity + newLength);
    out.set(from.subarray(0, length), at);
    out.set(from.subarray(length), at + capacity);
  }
  return new Tensor('int64', out, [rows, capacity + newLength]);
}

/**
 * Writes a decoder run's new keys and values into the cache, widening its capacity first when they do not fit.
 * Ownership of `cache` moves in: its buffers are reused (or replaced when they are too small).
 *
 * @param cache a channel-major cache (`positionAxis` 3), as {@link emptyCache} makes for the buffer decoder
 * @param newValues by past input name (`past_key_values.0.key`, ...): float32 `[rows, kvHeads, headDim, newLength]`
 * @param maxPositions positions per row the buffers are allocated for (`max_position_embeddings`)
 * @returns the cache holding `cache.length + newLength` positions
 */
export function storeNewPositions(
  cache: VideoLlavaCache,
  newValues: Readonly<Record<string, Tensor<'float32'>>>,
  maxPositions: number,
): VideoLlavaCache {
  const tensors: Record<string, Tensor<'float32'>> = {};
  let length = cache.length;
  for (const [name, value] of Object.entries(cache.tensors)) {
    const current = value as Tensor<'float32'>;
    const fresh = newValues[name];
    const [rows, heads, width, capacity] = current.dims as [number, number, number, number];
    if (
      current.dtype !== 'float32' ||
      cachePositionAxis(cache) !== 3 ||
      fresh === undefined ||
      fresh.dims.length !== 4 ||
      fresh.dims[0] !== rows ||
      fresh.dims[1] !== heads ||
      fresh.dims[2] !== width
    ) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `The decoder returned no float32 [rows, heads, width, new] keys or values for ${name} to store in a [${current.dims.join(', ')}] cache.`,
        {
          field: name,
          expected: `float32 [${rows}, ${heads}, ${width}, newLength] into a float32 channel-major cache`,
          actual: fresh ? `${fresh.dtype}[${fresh.dims.join(', ')}]` : 'missing',
        },
      );
    }
    const newLength = fresh.dims[3]!;
    const runs = rows * heads * width;
    const filled = cache.length;
    const needed = filled + newLength;
    let data = current.data;
    let stride = capacity;
    if (needed > capacity) {
      stride = kvBufferCapacity(needed, Math.max(maxPositions, needed));
      const whole = backing(data);
      if (whole.length >= runs * stride && capacity > 0) {
        restride(whole, runs, filled, capacity, stride);
        data = whole;
      } else {
        const target = new Float32Array(runs * Math.max(stride, maxPositions));
        copyRuns(data, target, runs, filled, capacity, stride);
        data = target;
      }
    }
    const source = fresh.data;
    if (newLength === 1) {
      // A decoding step: one value per run (4096 runs per tensor, 262144 per step at 7B), cheaper as plain stores
      // than as `set` calls.
      for (let run = 0; run < runs; run++) data[run * stride + filled] = source[run]!;
    } else {
      for (let run = 0; run < runs; run++)
        data.set(source.subarray(run * newLength, (run + 1) * newLength), run * stride + filled);
    }
    tensors[name] = new Tensor('float32', data.subarray(0, runs * stride), [rows, heads, width, stride]);
    length = needed;
  }
  return { tensors, rows: cache.rows, length, positionAxis: 3 };
}
