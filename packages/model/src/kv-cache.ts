import { type DataType, Tensor, allocateTypedArray } from '@video-llava/core';
import { DeviceTensor, type RuntimeTensor, toCpuTensor } from '@video-llava/runtime';

/**
 * The key/value cache of Video-LLaVA's language model between decoding steps: one `[rows, kvHeads, length, headDim]`
 * tensor per decoder input `past_key_values.{i}.key|value`, as the decoder returned them (`present.*`), on the CPU or
 * left on the device; or, for the buffer decoder, `[rows, kvHeads, headDim, capacity]` (see {@link positionAxis}).
 * The decoding loop treats it as opaque and hands it back to the model.
 */
export interface VideoLlavaCache {
  /** The tensors by the decoder input they feed (`past_key_values.0.key`, ...). */
  readonly tensors: Readonly<Record<string, RuntimeTensor>>;
  /** Sequences (batch rows, beams) in the cache. */
  readonly rows: number;
  /** Positions per row. */
  readonly length: number;
  /**
   * The axis of the tensors that indexes positions: 2 (the default) for `[rows, kvHeads, positions, headDim]`, the
   * `present.*` layout; 3 for `[rows, kvHeads, headDim, positions]`, the channel-major layout of
   * `decoder_kv_buffer*.onnx`, whose tensors may also hold more positions than {@link length} (unfilled capacity).
   * The int8 cache of `decoder_kv_int8*.onnx` keeps positions on axis 2, with unfilled capacity too.
   */
  readonly positionAxis?: 2 | 3;
  /**
   * The int8 cache's scales (`kv_scales.{i}.key|value`, float32 `[kvHeads, 1, headDim]`, one per channel of each
   * head, shared by every row), by the past input they belong to; set by its first run, fixed afterwards.
   */
  readonly scales?: Readonly<Record<string, Tensor<'float32'>>>;
}

/** The axis of `cache`'s tensors that indexes positions (see {@link VideoLlavaCache.positionAxis}). */
export function cachePositionAxis(cache: VideoLlavaCache): 2 | 3 {
  return cache.positionAxis ?? 2;
}

/** Frees the device memory a cache holds (CPU tensors are left to the garbage collector). */
export function releaseCacheTensors(cache: VideoLlavaCache): void {
  for (const tensor of Object.values(cache.tensors)) if (DeviceTensor.isInstance(tensor)) tensor.dispose();
}

/**
 * A cache of no positions for `rows` rows.
 *
 * @param positionAxis where the tensors keep positions (see {@link VideoLlavaCache.positionAxis})
 */
export function emptyCache(
  names: readonly string[],
  dtypes: Readonly<Record<string, DataType>>,
  rows: number,
  kvHeads: number,
  headDim: number,
  positionAxis: 2 | 3 = 2,
): VideoLlavaCache {
  const tensors: Record<string, RuntimeTensor> = {};
  const dims = positionAxis === 3 ? [rows, kvHeads, headDim, 0] : [rows, kvHeads, 0, headDim];
  for (const name of names) tensors[name] = Tensor.zeros(dtypes[name] ?? 'float32', dims);
  return positionAxis === 3 ? { tensors, rows, length: 0, positionAxis } : { tensors, rows, length: 0 };
}

type Copyable = {
  set(array: ArrayLike<unknown>, offset?: number): void;
  subarray(begin: number, end: number): ArrayLike<unknown>;
};

/**
 * A new cache with the rows of `cache` picked by `rowIndices` (row `i` of the result is row `rowIndices[i]`) and only
 * its first `length` positions, in the same layout ({@link VideoLlavaCache.positionAxis}) without unfilled capacity.
 * Device tensors are read back; the result is on the CPU. `cache` is left as it was.
 */
export async function gatherCache(
  cache: VideoLlavaCache,
  rowIndices: ArrayLike<number>,
  length = cache.length,
): Promise<VideoLlavaCache> {
  const positionAxis = cachePositionAxis(cache);
  const tensors: Record<string, RuntimeTensor> = {};
  for (const [name, value] of Object.entries(cache.tensors)) {
    const tensor = await toCpuTensor(value);
    const [rows, heads, third, fourth] = tensor.dims as [number, number, number, number];
    // Each row is `heads * runs` runs of `stride` elements, the first `length * width` of which are kept.
    const [positions, width] = positionAxis === 3 ? [fourth, third] : [third, fourth];
    const runs = positionAxis === 3 ? width : 1;
    const stride = positionAxis === 3 ? positions : positions * width;
    const kept = positionAxis === 3 ? length : length * width;
    const source = tensor.data as unknown as Copyable;
    const out = allocateTypedArray(tensor.dtype, rowIndices.length * heads * length * width) as unknown as Copyable;
    for (let row = 0; row < rowIndices.length; row++) {
      const from = rowIndices[row]!;
      if (from < 0 || from >= rows)
        throw new RangeError(`cache row ${from} does not exist (the cache has ${rows} rows)`);
      for (let run = 0; run < heads * runs; run++) {
        const start = (from * heads * runs + run) * stride;
        out.set(source.subarray(start, start + kept), (row * heads * runs + run) * kept);
      }
    }
    tensors[name] = new Tensor(
      tensor.dtype,
      out as never,
      positionAxis === 3 ? [rowIndices.length, heads, width, length] : [rowIndices.length, heads, length, width],
    );
  }
  const gathered: VideoLlavaCache =
    positionAxis === 3
      ? { tensors, rows: rowIndices.length, length, positionAxis }
      : { tensors, rows: rowIndices.length, length };
  // The int8 cache's scales hold for every row: the gathered rows keep them.
  return cache.scales ? { ...gathered, scales: cache.scales } : gathered;
}
