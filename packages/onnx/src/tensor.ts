import { VideoLlavaError } from '@video-llava/core';
import { type TensorDataType, tensorByteLength, tensorDataTypeCode } from './data-type.js';
import type { DeferredBytes, ExternalDataReference, TensorProto } from './types.js';

/** What a tensor is made from: its type, dims, and its data inline, deferred, or in an external file. */
export interface TensorInit {
  dataType: TensorDataType;
  dims: readonly number[];
  /**
   * The elements: any typed array or `Uint8Array` whose bytes are the little-endian elements (4-bit types
   * packed, low nibble first), or {@link DeferredBytes}. Leave out when {@link externalData} is set.
   */
  data?: ArrayBufferView | DeferredBytes;
  /** The tensor's bytes are in an external data file. */
  externalData?: ExternalDataReference;
  /** Elements of a `string` tensor. */
  stringData?: readonly (string | Uint8Array)[];
}

function isDeferred(value: unknown): value is DeferredBytes {
  return (
    typeof value === 'object' &&
    value !== null &&
    !ArrayBuffer.isView(value) &&
    'chunks' in value &&
    'byteLength' in value
  );
}

function checkDims(name: string, dims: readonly number[]): number {
  let count = 1;
  for (const [axis, dim] of dims.entries()) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Tensor ${JSON.stringify(name)}: dims[${axis}] must be a non-negative integer, found ${String(dim)}.`,
        {
          field: `${name}.dims[${axis}]`,
          expected: 'a non-negative integer',
          actual: dim,
        },
      );
    }
    count *= dim;
  }
  return count;
}

/**
 * Makes a {@link TensorProto}, checking that the data's byte length agrees with the type and dims.
 *
 * @throws VideoLlavaError `SHAPE_MISMATCH` when the data has the wrong length; `INVALID_ARGUMENT` for bad dims or
 * for data given together with external data
 */
export function createTensor(name: string, init: TensorInit): TensorProto {
  tensorDataTypeCode(init.dataType);
  const count = checkDims(name, init.dims);
  const tensor: TensorProto = { name, dataType: init.dataType, dims: [...init.dims] };
  if (init.dataType === 'string') {
    const strings = init.stringData ?? [];
    if (strings.length !== count) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `Tensor ${JSON.stringify(name)}: ${strings.length} strings for dims [${init.dims.join(',')}] (${count} elements).`,
        {
          field: `${name}.stringData`,
          expected: count,
          actual: strings.length,
        },
      );
    }
    tensor.stringData = strings;
    return tensor;
  }
  if (init.data !== undefined && init.externalData !== undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Tensor ${JSON.stringify(name)} has both data and externalData; give one.`,
      {
        field: `${name}.externalData`,
        expected: 'data or externalData',
        actual: 'both',
      },
    );
  }
  const expected = tensorByteLength(init.dataType, count);
  if (init.externalData !== undefined) {
    const length = init.externalData.length;
    if (length !== undefined && length !== expected) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `Tensor ${JSON.stringify(name)}: external data length ${length} bytes, but ${init.dataType}[${init.dims.join(',')}] takes ${expected}.`,
        {
          field: `${name}.externalData.length`,
          expected,
          actual: length,
        },
      );
    }
    tensor.externalData = { ...init.externalData };
    return tensor;
  }
  const data = init.data ?? new Uint8Array(0);
  if (data.byteLength !== expected) {
    throw new VideoLlavaError(
      'SHAPE_MISMATCH',
      `Tensor ${JSON.stringify(name)}: ${data.byteLength} bytes of data, but ${init.dataType}[${init.dims.join(',')}] takes ${expected}.`,
      {
        field: `${name}.data`,
        expected,
        actual: data.byteLength,
      },
    );
  }
  tensor.rawData = isDeferred(data) ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return tensor;
}
