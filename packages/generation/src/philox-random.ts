import { VideoLlavaError, describeValue } from '@video-llava/core';

/** A source of uniform random numbers for sampling. Implement it to plug in your own generator. */
export interface RandomGenerator {
  /** A uniform number in `[0, 1)`. */
  nextFloat(): number;
}

const MULTIPLIER_0 = 0xd2511f53;
const MULTIPLIER_1 = 0xcd9e8d57;
const WEYL_0 = 0x9e3779b9;
const WEYL_1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;

// High 32 bits of the 64-bit product of two uint32 values, exactly, with 16-bit halves (every partial sum stays
// below 2^53, so float64 arithmetic is exact).
function multiplyHigh(left: number, right: number): number {
  const leftLow = left & 0xffff;
  const leftHigh = left >>> 16;
  const rightLow = right & 0xffff;
  const rightHigh = right >>> 16;
  const lowLow = leftLow * rightLow;
  const lowHigh = leftLow * rightHigh;
  const highLow = leftHigh * rightLow;
  const middle = (lowLow >>> 16) + (lowHigh & 0xffff) + (highLow & 0xffff);
  return (
    (leftHigh * rightHigh + Math.floor(lowHigh / 65536) + Math.floor(highLow / 65536) + Math.floor(middle / 65536)) >>>
    0
  );
}

/**
 * One Philox4x32-10 block (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC 2011;
 * the generator of Random123, cuRAND and PyTorch's CUDA RNG): four 32-bit words from a 128-bit counter and a 64-bit
 * key. Known-answer vectors: Random123's `kat_vectors`.
 *
 * @param counter four uint32 words
 * @param key two uint32 words
 * @param output receives four uint32 words
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, output: Uint32Array): void {
  let c0 = counter[0]! >>> 0;
  let c1 = counter[1]! >>> 0;
  let c2 = counter[2]! >>> 0;
  let c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0;
  let k1 = key[1]! >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + WEYL_0) >>> 0;
      k1 = (k1 + WEYL_1) >>> 0;
    }
    const high0 = multiplyHigh(MULTIPLIER_0, c0);
    const low0 = Math.imul(MULTIPLIER_0, c0) >>> 0;
    const high1 = multiplyHigh(MULTIPLIER_1, c2);
    const low1 = Math.imul(MULTIPLIER_1, c2) >>> 0;
    c0 = (high1 ^ c1 ^ k0) >>> 0;
    c1 = low1;
    c2 = (high0 ^ c3 ^ k1) >>> 0;
    c3 = low0;
  }
  output[0] = c0;
  output[1] = c1;
  output[2] = c2;
  output[3] = c3;
}

/**
 * The default {@link RandomGenerator}: Philox4x32-10 in counter mode. The key is the seed (low and high 32 bits);
 * the counter starts at zero and goes up by one per block of four words. Each `nextFloat()` takes two words
 * (53 random bits: `(a >>> 5) * 2^26 + (b >>> 6)) / 2^53`), so a seed always gives the same sequence, on every
 * platform and JavaScript engine.
 */
export class PhiloxRandom implements RandomGenerator {
  /** The seed this generator was made with. */
  readonly seed: number;
  private readonly key: Uint32Array;
  private readonly counter = new Uint32Array(4);
  private readonly block = new Uint32Array(4);
  private position = 4;

  /** @param seed an integer in `[0, 2^53)` */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `The sampling seed must be an integer in [0, 2^53), found ${describeValue(seed)}.`,
        {
          field: 'seed',
          expected: 'an integer in [0, 2^53)',
          actual: seed,
        },
      );
    }
    this.seed = seed;
    this.key = new Uint32Array([seed % TWO_POW_32, Math.floor(seed / TWO_POW_32)]);
  }

  /** The next uint32 of the stream. */
  nextUint32(): number {
    if (this.position === 4) {
      philox4x32(this.counter, this.key, this.block);
      this.position = 0;
      for (let word = 0; word < 4; word++) {
        this.counter[word] = (this.counter[word]! + 1) >>> 0;
        if (this.counter[word] !== 0) break;
      }
    }
    return this.block[this.position++]!;
  }

  /** A uniform float64 in `[0, 1)` from the next two words. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }
}

/** A seed for callers who gave none, from `crypto.getRandomValues` where the platform has it. */
export function randomSeed(): number {
  const words = new Uint32Array(2);
  const cryptoObject = (globalThis as { crypto?: { getRandomValues?: (array: Uint32Array) => Uint32Array } }).crypto;
  if (cryptoObject?.getRandomValues) cryptoObject.getRandomValues(words);
  else {
    words[0] = Math.floor(Math.random() * TWO_POW_32);
    words[1] = Math.floor(Math.random() * TWO_POW_32);
  }
  return (words[1]! & 0x1fffff) * TWO_POW_32 + words[0]!;
}
