import { Tensor } from '@video-llava/core';

/** Columns `from..to` of a `[rows, columns, width]` (or `[rows, columns]` with `width` 1) tensor, copied. */
export function sliceColumns<T extends 'float32' | 'int64'>(
  tensor: Tensor<T>,
  from: number,
  to: number,
  width: number,
): Tensor<T> {
  const [rows, columns] = tensor.dims as [number, number];
  if (from === 0 && to === columns) return tensor;
  const data = tensor.data as Float32Array | BigInt64Array;
  const out = new (data.constructor as Float32ArrayConstructor | BigInt64ArrayConstructor)(rows * (to - from) * width);
  for (let row = 0; row < rows; row++)
    (out as Float32Array).set(
      (data as Float32Array).subarray((row * columns + from) * width, (row * columns + to) * width),
      row * (to - from) * width,
    );
  return new Tensor(
    tensor.dtype,
    out as Tensor<T>['data'],
    tensor.dims.length === 3 ? [rows, to - from, width] : [rows, to - from],
  );
}
