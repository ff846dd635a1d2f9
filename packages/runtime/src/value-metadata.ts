import type { DataType } from '@video-llava/core';

/** One dimension of a model input or output: a fixed size, or the name of a symbolic dimension (`"batch_size"`). */
export type Dimension = number | string;

/** The name, element type and shape of one input or output of a model, as its graph declares them. */
export interface ValueMetadata {
  /** The input or output name. */
  readonly name: string;
  /**
   * The element type. A type video-llava.js tensors cannot hold (`float64`, `string`, a sequence...) keeps ONNX
   * Runtime's name for it, so the model still loads and the error comes when the value is fed.
   */
  readonly dtype: DataType | (string & {});
  /**
   * The shape: sizes and symbolic names. Empty when the model declares a scalar or leaves the rank unknown
   * (ONNX Runtime reports both the same way); then the rank is not checked.
   */
  readonly shape: readonly Dimension[];
}

/** `name: float32[batch, 3]`: one value as error messages show it. */
export function formatValueMetadata(value: ValueMetadata): string {
  return `${value.name}: ${formatType(value.dtype, value.shape)}`;
}

/** `float32[batch, 3]`: a type as error messages show it. */
export function formatType(dtype: string, shape: readonly Dimension[]): string {
  return `${dtype}[${shape.join(', ')}]`;
}

/** `a: float32[batch, 3], b: int64[batch]`: a list of inputs or outputs as error messages show it. */
export function formatSignature(values: readonly ValueMetadata[]): string {
  return values.length === 0 ? '(none)' : values.map(formatValueMetadata).join(', ');
}
