import { Tensor, VideoLlavaError } from '@video-llava/core';
import { kvBufferCapacity } from './kv-buffer.js';
import type { VideoLlavaCache } from './kv-cache.js';

/**
 * The int8 cache of `decoder_kv_int8*.onnx` with room for `needed` positions: `cache` itself when its buffers hold
 * that many, else a cache whose buffers (int8 `[rows, kvHeads, capacity, headDim]`) are larger, with the filled
 * positions copied over. The capacity grows like the float32 buffer's ({@link kvBufferCapacity}): a step seldom copies.
 * Its scales come along.
 */
export function withInt8Capacity(cache: VideoLlavaCache, needed: number, maxPositions: number): VideoLlavaCache {
  const tensors: Record<string, Tensor<'int8'>> = {};
  let grown = false;
  for (const [name, value] of Object.entries(cache.tensors)) {
    if (!(value instanceof Tensor) || value.dtype !== 'int8' || value.dims.length !== 4)
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `The int8 cache decoder takes int8 [rows, kvHeads, capacity, headDim] CPU tensors; ${name} is not one (use this model's emptyCache).`,
        { field: name, expected: 'int8 [rows, kvHeads, capacity, headDim]', actual: describe(value) },
      );
    const tensor = value as Tensor<'int8'>;
    const [rows, heads, capacity, width] = tensor.dims as [number, number, number, number];
    if (capacity >= needed) {
      tensors[name] = tensor;
      continue;
    }
    grown = true;
    const stride = kvBufferCapacity(needed, Math.max(maxPositions, needed));
    const data = new Int8Array(rows * heads * stride * width);
    const filled = cache.length * width;
    for (let run = 0; run < rows * heads; run++)
      data.set(tensor.data.subarray(run * capacity * width, run * capacity * width + filled), run * stride * width);
    tensors[name] = new Tensor('int8', data, [rows, heads, stride, width]);
  }
  return grown ? { ...cache, tensors } : cache;
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `${value.dtype}[${value.dims.join(', ')}]`;
  return 'a device tensor';
}
