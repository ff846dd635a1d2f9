import { VideoLlavaError } from '@video-llava/core';

/**
 * ONNX tensor element types, by the names used across video-llava.js (`TensorProto.DataType` in onnx.proto).
 * `int4`/`uint4` pack two elements per byte, low nibble first.
 */
export type TensorDataType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'bfloat16'
  | 'uint4'
  | 'int4';

/** The `TensorProto.DataType` enum value of each {@link TensorDataType}. */
export const TENSOR_DATA_TYPE_CODES: Readonly<Record<TensorDataType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
  uint4: 21,
  int4: 22,
};

const BITS: Readonly<Record<TensorDataType, number>> = {
  float32: 32,
  uint8: 8,
  int8: 8,
  uint16: 16,
  int16: 16,
  int32: 32,
  int64: 64,
  string: 0,
  bool: 8,
  float16: 16,
  float64: 64,
  uint32: 32,
  uint64: 64,
  bfloat16: 16,
  uint4: 4,
  int4: 4,
};

/** Whether `value` names a {@link TensorDataType}. */
export function isTensorDataType(value: unknown): value is TensorDataType {
  return typeof value === 'string' && Object.hasOwn(TENSOR_DATA_TYPE_CODES, value);
}

/** The `TensorProto.DataType` code of a data type, with a clear error for unknown names. */
export function tensorDataTypeCode(dataType: TensorDataType): number {
  const code = isTensorDataType(dataType) ? TENSOR_DATA_TYPE_CODES[dataType] : undefined;
  if (code === undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Unknown ONNX tensor data type ${JSON.stringify(dataType)}; expected one of ${Object.keys(TENSOR_DATA_TYPE_CODES).join(', ')}.`,
      {
        field: 'dataType',
        expected: Object.keys(TENSOR_DATA_TYPE_CODES),
        actual: dataType,
      },
    );
  }
  return code;
}

/**
 * Bytes that `elementCount` elements of `dataType` take in `raw_data` (4-bit types round up to whole bytes).
 * Throws for `string`, which has no fixed size.
 */
export function tensorByteLength(dataType: TensorDataType, elementCount: number): number {
  tensorDataTypeCode(dataType);
  const bits = BITS[dataType];
  if (bits === 0) {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      'String tensors have no fixed byte length; they cannot be stored as raw data.',
      {
        field: 'dataType',
        expected: 'a numeric data type',
        actual: dataType,
      },
    );
  }
  return Math.ceil((elementCount * bits) / 8);
}
