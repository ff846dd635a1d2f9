import { type DataType, Tensor, allocateTypedArray } from '@video-llava/core';
import { DeviceTensor, type RuntimeTensor, toCpuTensor } from '@video-llava/runtime';

/**
 * The key/value cache of Video-LLaVA's language model between decoding steps: one `[rows, kvHeads, length, headDim]`
 * tensor per decoder input `past_key_values.{i}.key|value`, as the decoder returned them (`present.*`), on the CPU or
 * left on the device. The decoding loop treats it as opaque and hands it back to the model.
 */
export interface VideoLlavaCache {
  /** The tensors by the decoder input they feed (`past_key_values.0.key`, ...). */
  readonly tensors: Readonly<Record<string, RuntimeTensor>>;
  /** Sequences (batch rows, beams) in the cache. */
  readonly rows: number;
  /** Positions per row. */
  readonly length: number;
}

/** Frees the device memory a cache holds (CPU tensors are left to the garbage collector). */
export function releaseCacheTensors(cache: VideoLlavaCache): void {
  for (const tensor of Object.values(cache.tensors)) if (DeviceTensor.isInstance(tensor)) tensor.dispose();
}

/** A cache of no positions for `rows` rows. */
export function emptyCache(
  names: readonly string[],
  dtypes: Readonly<Record<string, DataType>>,
  rows: number,
  kvHeads: number,
  headDim: number,
): VideoLlavaCache {
  const tensors: Record<string, RuntimeTensor> = {};
  for (const name of names) tensors[name] = Tensor.zeros(dtypes[name] ?? 'float32', [rows, kvHeads, 0, headDim]);
  return { tensors, rows, length: 0 };
}

type Copyable = {
  set(array: ArrayLike<unknown>, offset?: number): void;
  subarray(begin: number, end: number): ArrayLike<unknown>;
};

/**
 * A new cache with the rows of `cache` picked by `rowIndices` (row `i` of the result is row `rowIndices[i]`) and only
 * its first `length` positions. Device tensors are read back; the result is on the CPU. `cache` is left as it was.
 */
export async function gatherCache(
  cache: VideoLlavaCache,
  rowIndices: ArrayLike<number>,
  length = cache.length,
): Promise<VideoLlavaCache> {
  const tensors: Record<string, RuntimeTensor> = {};
  for (const [name, value] of Object.entries(cache.tensors)) {
    const tensor = await toCpuTensor(value);
    const [rows, heads, positions, width] = tensor.dims as [number, number, number, number];
    const source = tensor.data as unknown as Copyable;
    const out = allocateTypedArray(tensor.dtype, rowIndices.length * heads * length * width) as unknown as Copyable;
    const rowSize = heads * positions * width;
    for (let row = 0; row < rowIndices.length; row++) {
      const from = rowIndices[row]!;
      if (from < 0 || from >= rows)
        throw new RangeError(`cache row ${from} does not exist (the cache has ${rows} rows)`);
      for (let head = 0; head < heads; head++) {
        const start = from * rowSize + head * positions * width;
        out.set(source.subarray(start, start + length * width), (row * heads + head) * length * width);
      }
    }
    tensors[name] = new Tensor(tensor.dtype, out as never, [rowIndices.length, heads, length, width]);
  }
  return { tensors, rows: rowIndices.length, length };
}
