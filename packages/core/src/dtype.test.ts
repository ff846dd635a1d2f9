import { describe, expect, it } from 'vitest';
import {
  bfloat16ToFloat32,
  float16BitsToNumber,
  float16ToFloat32,
  float32ToFloat16,
  numberToFloat16Bits,
} from './index.js';

describe('float16 and bfloat16', () => {
  it('round-trips every finite float16 bit pattern exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f) continue;
      const value = float16BitsToNumber(bits);
      const back = numberToFloat16Bits(value);
      // -0 and +0 keep their sign bit
      expect(back).toBe(bits);
    }
  });

  it('rounds to nearest even like torch .half()', () => {
    // 1 + 2^-11 is exactly halfway between 1 and the next float16 (1 + 2^-10): ties to even -> 1
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3 * 2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even) -> rounds up
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00);
    expect(numberToFloat16Bits(2 ** -25)).toBe(0);
    expect(numberToFloat16Bits(2 ** -24)).toBe(1);
  });

  it('converts arrays both ways', () => {
    const values = new Float32Array([0.5, -2, 1024, 6.1035156e-5]);
    expect([...float16ToFloat32(float32ToFloat16(values))]).toEqual([...values]);
  });

  it('widens bfloat16 exactly', () => {
    expect([...bfloat16ToFloat32(new Uint16Array([0x3f80, 0xc000, 0x4049]))]).toEqual([1, -2, 3.140625]);
  });
});
