import { VideoLlavaError } from './errors.js';

/** The element types a {@link Tensor} can hold. */
export type DataType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** The typed array that stores each {@link DataType}. float16 is stored as its raw bits; bool as 0/1 bytes. */
export interface DataTypeArrayMap {
  float32: Float32Array;
  float16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** The typed array type for a {@link DataType}. */
export type TypedArrayFor<T extends DataType> = DataTypeArrayMap[T];

/** All data types, in a stable order. */
export const DATA_TYPES: readonly DataType[] = ['float32', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool'];

const BYTES: Record<DataType, number> = { float32: 4, float16: 2, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 };

/** Bytes per element of a {@link DataType}. */
export function bytesPerElement(dtype: DataType): number {
  return BYTES[dtype];
}

/** True when `value` names a supported {@link DataType}. */
export function isDataType(value: unknown): value is DataType {
  return typeof value === 'string' && (DATA_TYPES as readonly string[]).includes(value);
}

/** A zeroed typed array of `length` elements for `dtype`. */
export function allocateTypedArray<T extends DataType>(dtype: T, length: number): TypedArrayFor<T> {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length) as TypedArrayFor<T>;
    case 'float16':
      return new Uint16Array(length) as TypedArrayFor<T>;
    case 'int64':
      return new BigInt64Array(length) as TypedArrayFor<T>;
    case 'int32':
      return new Int32Array(length) as TypedArrayFor<T>;
    case 'int8':
      return new Int8Array(length) as TypedArrayFor<T>;
    case 'uint8':
    case 'bool':
      return new Uint8Array(length) as TypedArrayFor<T>;
    default:
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Unknown dtype ${String(dtype)}; expected one of ${DATA_TYPES.join(', ')}.`,
        {
          field: 'dtype',
          expected: DATA_TYPES,
          actual: dtype,
        },
      );
  }
}

/** Whether `data` is the storage type of `dtype`. */
export function isTypedArrayFor(dtype: DataType, data: unknown): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float16':
      return data instanceof Uint16Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'int8':
      return data instanceof Int8Array;
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array;
  }
}

const conversionBuffer = new DataView(new ArrayBuffer(4));

/** IEEE half-precision bits to a number (exact: every float16 is a float32). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A number to IEEE half-precision bits, rounding to nearest even like `torch.Tensor.half()`. */
export function numberToFloat16Bits(value: number): number {
  conversionBuffer.setFloat32(0, value);
  const x = conversionBuffer.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const halfMantissa = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded =
      remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1) ? halfMantissa + 1 : halfMantissa;
    return sign | rounded;
  }
  const halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  let result = sign | (halfExponent << 10) | halfMantissa;
  if (remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1) === 1)) result += 1;
  return result;
}

/** bfloat16 bits to a number (exact). */
export function bfloat16BitsToNumber(bits: number): number {
  conversionBuffer.setUint32(0, (bits & 0xffff) << 16);
  return conversionBuffer.getFloat32(0);
}

/** float16 storage to float32 values. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index++) out[index] = float16BitsToNumber(bits[index]!);
  return out;
}

/** float32 values to float16 storage (round to nearest even). */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) out[index] = numberToFloat16Bits(values[index]!);
  return out;
}

/** bfloat16 storage to float32 values (exact: the bits are the top half of a float32). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let index = 0; index < bits.length; index++) out[index] = bits[index]! << 16;
  return new Float32Array(out.buffer);
}
