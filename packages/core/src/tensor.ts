import { type DataType, type TypedArrayFor, allocateTypedArray, isDataType, isTypedArrayFor } from './dtype.js';
import { VideoLlavaError, describeValue } from './errors.js';

/** Dimensions of a tensor, outermost first (C order). */
export type Dims = readonly number[];

/** Number of elements a tensor of these dims holds. */
export function elementCount(dims: Dims): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}

function checkDims(dims: Dims, field: string): void {
  for (const [axis, dim] of dims.entries()) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `${field}[${axis}] must be a non-negative integer, found ${describeValue(dim)}.`,
        {
          field: `${field}[${axis}]`,
          expected: 'a non-negative integer',
          actual: dim,
        },
      );
    }
  }
}

/**
 * A dense, C-ordered, CPU tensor: a dtype, dims, and a typed array of exactly `product(dims)` elements.
 * float16 data is stored as raw IEEE bits in a `Uint16Array`; bool as 0/1 in a `Uint8Array`.
 */
export class Tensor<T extends DataType = DataType> {
  /** Element type. */
  readonly dtype: T;
  /** Dimensions, outermost first. */
  readonly dims: Dims;
  /** The elements, C order. */
  readonly data: TypedArrayFor<T>;

  constructor(dtype: T, data: TypedArrayFor<T>, dims: Dims) {
    if (!isDataType(dtype)) {
      throw new VideoLlavaError('INVALID_ARGUMENT', `Unknown tensor dtype ${describeValue(dtype)}.`, {
        field: 'dtype',
        expected: 'float32, float16, int64, int32, int8, uint8 or bool',
        actual: dtype,
      });
    }
    checkDims(dims, 'dims');
    if (!isTypedArrayFor(dtype, data)) {
      throw new VideoLlavaError(
        'DTYPE_MISMATCH',
        `A ${dtype} tensor needs its matching typed array, found ${describeValue(data)}.`,
        {
          field: 'data',
          expected: dtype,
          actual: (data as object | undefined)?.constructor?.name,
        },
      );
    }
    const expected = elementCount(dims);
    if (data.length !== expected) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `Tensor data has ${data.length} elements but dims [${dims.join(', ')}] need ${expected}.`,
        {
          field: 'data',
          expected,
          actual: data.length,
        },
      );
    }
    this.dtype = dtype;
    this.dims = Object.freeze([...dims]);
    this.data = data;
  }

  /** A zero-filled tensor. */
  static zeros<T extends DataType>(dtype: T, dims: Dims): Tensor<T> {
    checkDims(dims, 'dims');
    return new Tensor(dtype, allocateTypedArray(dtype, elementCount(dims)), dims);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.dims.length;
  }

  /** The same data viewed with other dims (no copy). */
  reshape(dims: Dims): Tensor<T> {
    return new Tensor(this.dtype, this.data, dims);
  }

  /**
   * The sub-tensor at `index` along the first axis (a view: no copy).
   */
  at(index: number): Tensor<T> {
    const [outer, ...inner] = this.dims;
    if (outer === undefined || !Number.isInteger(index) || index < 0 || index >= outer) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Index ${index} is out of range for the first axis of a [${this.dims.join(', ')}] tensor.`,
        {
          field: 'index',
          expected: outer === undefined ? 'a tensor of rank >= 1' : `0 <= index < ${outer}`,
          actual: index,
        },
      );
    }
    const stride = elementCount(inner);
    const data = this.data.subarray(index * stride, (index + 1) * stride) as TypedArrayFor<T>;
    return new Tensor(this.dtype, data, inner);
  }

  /** A short description for logs and errors: `float32[1,3,224,224]`. */
  toString(): string {
    return `${this.dtype}[${this.dims.join(',')}]`;
  }
}

/**
 * Stacks tensors of the same dtype and dims along a new first axis.
 */
export function stackTensors<T extends DataType>(tensors: readonly Tensor<T>[], field = 'tensors'): Tensor<T> {
  const first = tensors[0];
  if (first === undefined) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `Cannot stack an empty list of tensors (${field}).`, {
      field,
      expected: 'at least one tensor',
      actual: 0,
    });
  }
  const out = allocateTypedArray(first.dtype, first.size * tensors.length);
  for (const [index, tensor] of tensors.entries()) {
    if (tensor.dtype !== first.dtype || tensor.dims.join(',') !== first.dims.join(',')) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `${field}[${index}] is ${tensor.toString()} but ${field}[0] is ${first.toString()}; stacked tensors must agree.`,
        {
          field: `${field}[${index}]`,
          expected: first.toString(),
          actual: tensor.toString(),
        },
      );
    }
    (out as { set(array: ArrayLike<unknown>, offset: number): void }).set(
      tensor.data as ArrayLike<unknown>,
      index * first.size,
    );
  }
  return new Tensor(first.dtype, out as TypedArrayFor<T>, [tensors.length, ...first.dims]);
}
