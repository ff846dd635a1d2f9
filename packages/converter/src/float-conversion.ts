import { VideoLlavaError, float16BitsToNumber } from '@video-llava/core';

let float16Table: Float32Array | undefined;

function float16ToFloat32Table(): Float32Array {
  if (float16Table) return float16Table;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) table[bits] = float16BitsToNumber(bits);
  float16Table = table;
  return table;
}

/**
 * Decodes little-endian safetensors bytes (`F32`, `F16`, `BF16`) into float32 values. Widening is exact.
 * @param bytes the tensor bytes (any alignment)
 */
export function decodeFloats(bytes: Uint8Array, dtype: string): Float32Array {
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'F16': {
      const table = float16ToFloat32Table();
      const count = bytes.byteLength / 2;
      const out = new Float32Array(count);
      for (let index = 0; index < count; index++) out[index] = table[bytes[2 * index]! | (bytes[2 * index + 1]! << 8)]!;
      return out;
    }
    case 'BF16': {
      const count = bytes.byteLength / 2;
      const bits = new Uint32Array(count);
      for (let index = 0; index < count; index++)
        bits[index] = ((bytes[2 * index]! | (bytes[2 * index + 1]! << 8)) << 16) >>> 0;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new VideoLlavaError(
        'DTYPE_MISMATCH',
        `Cannot decode ${dtype} weights; the converter reads F32, F16 and BF16.`,
        {
          field: 'dtype',
          expected: ['F32', 'F16', 'BF16'],
          actual: dtype,
        },
      );
  }
}

/** float32 values to IEEE float16 bits, rounding to nearest even like `torch.Tensor.half()`. */
export function encodeFloat16(values: Float32Array): Uint16Array {
  const input = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let index = 0; index < input.length; index++) {
    const x = input[index]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    let mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[index] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const halfExponent = exponent - 112;
    if (halfExponent >= 0x1f) {
      out[index] = sign | 0x7c00;
      continue;
    }
    if (halfExponent <= 0) {
      if (halfExponent < -10) {
        out[index] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - halfExponent;
      const half = mantissa >>> shift;
      const remainder = mantissa & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      out[index] = sign | (remainder > halfway || (remainder === halfway && (half & 1) === 1) ? half + 1 : half);
      continue;
    }
    const half = mantissa >>> 13;
    const remainder = mantissa & 0x1fff;
    let result = sign | (halfExponent << 10) | half;
    if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) result += 1;
    out[index] = result;
  }
  return out;
}

/** IEEE float16 bits to float32 values (exact). */
export function decodeFloat16(bits: Uint16Array): Float32Array {
  const table = float16ToFloat32Table();
  const out = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index++) out[index] = table[bits[index]!]!;
  return out;
}
