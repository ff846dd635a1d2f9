import { describe, expect, it } from 'vitest';
import { decodeFloat16, decodeFloats, encodeFloat16 } from './float-conversion.js';

describe('float16 and bfloat16 conversion', () => {
  it('every float16 value survives float32 and back; halfway values round to even', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, bits) => bits);
    const wide = decodeFloat16(all);
    const back = encodeFloat16(wide);
    for (let bits = 0; bits < 65536; bits++) {
      const isNaNBits = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      if (isNaNBits) expect(Number.isNaN(wide[bits]!)).toBe(true);
      else expect(back[bits]).toBe(bits);
    }
    // 1 + 2^-11 is halfway between 1 and the next float16 (1 + 2^-10): ties go to the even one (1).
    // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties go to 1 + 2^-9 (even mantissa).
    expect(
      Array.from(
        decodeFloat16(
          encodeFloat16(Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 2 ** -24 * 1.5])),
        ),
      ),
    ).toEqual([1, 1 + 2 ** -9, Infinity, 0, 2 ** -23]);
  });

  it('decodes little-endian F32, F16 and BF16 bytes at any alignment', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f]);
    expect(Array.from(decodeFloats(bytes.subarray(1, 5), 'F16'))).toEqual([1, -2]);
    expect(Array.from(decodeFloats(bytes.subarray(3, 7), 'BF16'))).toEqual([-2, 1]);
    expect(Array.from(decodeFloats(new Uint8Array(new Float32Array([1.5, -0.25]).buffer), 'F32'))).toEqual([
      1.5, -0.25,
    ]);
    expect(() => decodeFloats(bytes, 'I8')).toThrowError(
      expect.objectContaining({ code: 'DTYPE_MISMATCH', actual: 'I8' }),
    );
  });
});
