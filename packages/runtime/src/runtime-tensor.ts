import { type DataType, type Tensor, isDataType, isTypedArrayFor } from '@video-llava/core';
import { DeviceTensor } from './device-tensor.js';

/**
 * A value a session takes or returns: a CPU {@link Tensor} from `@video-llava/core`, or a {@link DeviceTensor}
 * whose data stays on the execution provider's device.
 */
export type RuntimeTensor<T extends DataType = DataType> = Tensor<T> | DeviceTensor<T>;

/**
 * True when `value` is a CPU tensor: a `Tensor` from `@video-llava/core` (any copy of it), or any object with a
 * known `dtype`, `dims` and the matching typed array as `data`.
 */
export function isCpuTensor(value: unknown): value is Tensor {
  if (typeof value !== 'object' || value === null || DeviceTensor.isInstance(value)) return false;
  const candidate = value as Partial<Tensor>;
  return (
    isDataType(candidate.dtype) && Array.isArray(candidate.dims) && isTypedArrayFor(candidate.dtype, candidate.data)
  );
}

/**
 * The tensor's data on the CPU: a CPU tensor as it is, a device tensor downloaded (its device copy is kept;
 * dispose it when done).
 */
export async function toCpuTensor<T extends DataType>(value: RuntimeTensor<T>): Promise<Tensor<T>> {
  return DeviceTensor.isInstance(value) ? (value as DeviceTensor<T>).download() : (value as Tensor<T>);
}
