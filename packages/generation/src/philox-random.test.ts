import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { PhiloxRandom, philox4x32 } from './philox-random.js';

// Known-answer vectors of Philox4x32-10 from Random123's `kat_vectors` (counter[4] key[2] -> output[4]).
const KNOWN_ANSWERS: Array<[number[], number[], number[]]> = [
  [
    [0, 0, 0, 0],
    [0, 0],
    [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
  ],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

describe('philox4x32', () => {
  it.each(KNOWN_ANSWERS)('matches the Random123 known answer for counter %j key %j', (counter, key, expected) => {
    const output = new Uint32Array(4);
    philox4x32(counter, key, output);
    expect(Array.from(output)).toEqual(expected);
  });
});

describe('PhiloxRandom', () => {
  it('is counter mode: the first words of seed 0 are the block of counter 0, then counter 1', () => {
    const random = new PhiloxRandom(0);
    const words = Array.from({ length: 8 }, () => random.nextUint32());
    const block = new Uint32Array(4);
    philox4x32([0, 0, 0, 0], [0, 0], block);
    expect(words.slice(0, 4)).toEqual(Array.from(block));
    philox4x32([1, 0, 0, 0], [0, 0], block);
    expect(words.slice(4)).toEqual(Array.from(block));
  });

  it('repeats for a seed, differs across seeds, and stays in [0, 1)', () => {
    const first = new PhiloxRandom(1234);
    const again = new PhiloxRandom(1234);
    const other = new PhiloxRandom(1235);
    const a = Array.from({ length: 1000 }, () => first.nextFloat());
    expect(Array.from({ length: 1000 }, () => again.nextFloat())).toEqual(a);
    expect(Array.from({ length: 1000 }, () => other.nextFloat())).not.toEqual(a);
    expect(a.every((value) => value >= 0 && value < 1)).toBe(true);
    const mean = a.reduce((sum, value) => sum + value, 0) / a.length;
    // 1000 uniforms: the mean has standard deviation 0.0091; 5 sigma.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.046);
  });

  it('uses both halves of a 53-bit seed as the key', () => {
    const high = new PhiloxRandom(2 ** 40);
    const block = new Uint32Array(4);
    philox4x32([0, 0, 0, 0], [0, 2 ** 8], block);
    expect(high.nextUint32()).toBe(block[0]);
  });

  it('refuses a seed that is not an integer in [0, 2^53)', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 53]) {
      try {
        new PhiloxRandom(seed);
        expect.unreachable();
      } catch (error) {
        expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
        expect((error as VideoLlavaError).field).toBe('seed');
      }
    }
  });
});
