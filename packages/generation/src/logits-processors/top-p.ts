import { VideoLlavaError, describeValue } from '@video-llava/core';
import { softmaxInto } from '../float32-softmax.js';
import type { LogitsProcessor } from './logits-processor.js';

// Sorting 32k indices with a comparator costs ~10 ms; a native sort of numeric keys, ~1 ms. A key packs the
// float32 score's bits (remapped so that unsigned order is numeric order) above the token id: exact in a float64
// for vocabularies up to 2^21 tokens, and ties come out by token id.
const INDEX_BITS = 2 ** 21;
const bitsView = new Float32Array(1);
const bitsOf = new Uint32Array(bitsView.buffer);

function sortKey(value: number, index: number): number {
  bitsView[0] = value === 0 ? 0 : value; // -0 and 0 are one score
  const bits = bitsOf[0]!;
  const ordered = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
  return ordered * INDEX_BITS + index;
}

/**
 * transformers' `TopPLogitsWarper` (nucleus sampling): sort ascending, take the softmax of the sorted scores, and
 * remove every token whose cumulative probability is `<= 1 - topP` (in float32, the comparison value rounded to
 * float32 as PyTorch does), keeping the `minTokensToKeep` best. PyTorch's CPU `cumsum` accumulates float32 in
 * float64 and rounds each partial sum, which this reproduces. Equal scores are ordered by token id (a stable sort).
 * Scores that are already `-Infinity` (e.g. after top-k) have probability 0 and stay removed, so only the others
 * are sorted.
 */
export class TopPLogitsWarper implements LogitsProcessor {
  readonly name = 'top-p';
  private readonly threshold: number;
  private keys = new Float64Array(0);
  private order = new Int32Array(0);
  private sorted = new Float32Array(0);
  private probabilities = new Float32Array(0);

  /**
   * @param topP the probability mass to keep, in `[0, 1]`
   * @param minTokensToKeep never keep fewer than this
   * @default minTokensToKeep 1
   */
  constructor(
    topP: number,
    private readonly minTokensToKeep = 1,
  ) {
    if (!(topP >= 0 && topP <= 1)) {
      throw new VideoLlavaError('INVALID_ARGUMENT', `topP must be a number in [0, 1], found ${describeValue(topP)}.`, {
        field: 'topP',
        expected: 'a number in [0, 1]',
        actual: topP,
      });
    }
    this.threshold = Math.fround(1 - topP);
  }

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    const vocabSize = scores.length / rows;
    if (this.order.length !== vocabSize) {
      this.keys = new Float64Array(vocabSize);
      this.order = new Int32Array(vocabSize);
      this.sorted = new Float32Array(vocabSize);
      this.probabilities = new Float32Array(vocabSize);
    }
    for (let row = 0; row < rows; row++) {
      const offset = row * vocabSize;
      const count = this.sortFinite(scores, offset, vocabSize);
      const probabilities = this.probabilities.subarray(0, count);
      softmaxInto(this.sorted.subarray(0, count), probabilities);
      const keepFrom = count - this.minTokensToKeep;
      let cumulative = 0;
      for (let rank = 0; rank < keepFrom; rank++) {
        cumulative += probabilities[rank]!;
        if (Math.fround(cumulative) > this.threshold) break;
        scores[offset + this.order[rank]!] = -Infinity;
      }
    }
  }

  /** Sorts the row's scores that are not `-Infinity` ascending (ties by token id) into `order` / `sorted`. */
  private sortFinite(scores: Float32Array, offset: number, vocabSize: number): number {
    let count = 0;
    if (vocabSize <= INDEX_BITS) {
      for (let index = 0; index < vocabSize; index++) {
        const value = scores[offset + index]!;
        if (value !== -Infinity) this.keys[count++] = sortKey(value, index);
      }
      const keys = this.keys.subarray(0, count).sort();
      for (let rank = 0; rank < count; rank++) {
        const index = keys[rank]! % INDEX_BITS;
        this.order[rank] = index;
        this.sorted[rank] = scores[offset + index]!;
      }
      return count;
    }
    for (let index = 0; index < vocabSize; index++)
      if (scores[offset + index] !== -Infinity) this.order[count++] = index;
    this.order
      .subarray(0, count)
      .sort((left, right) => scores[offset + left]! - scores[offset + right]! || left - right);
    for (let rank = 0; rank < count; rank++) this.sorted[rank] = scores[offset + this.order[rank]!]!;
    return count;
  }
}
