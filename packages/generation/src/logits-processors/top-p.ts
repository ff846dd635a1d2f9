import { VideoLlavaError, describeValue } from '@video-llava/core';
import { softmaxInto } from '../float32-softmax.js';
import type { LogitsProcessor } from './logits-processor.js';

/**
 * transformers' `TopPLogitsWarper` (nucleus sampling): sort ascending, take the softmax of the sorted scores, and
 * remove every token whose cumulative probability is `<= 1 - topP` (in float32, the comparison value rounded to
 * float32 as PyTorch does), keeping the `minTokensToKeep` best. PyTorch's CPU `cumsum` accumulates float32 in
 * float64 and rounds each partial sum, which this reproduces. Equal scores are ordered by token id (a stable sort).
 */
export class TopPLogitsWarper implements LogitsProcessor {
  readonly name = 'top-p';
  private readonly threshold: number;
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
      this.order = new Int32Array(vocabSize);
      this.sorted = new Float32Array(vocabSize);
      this.probabilities = new Float32Array(vocabSize);
    }
    const order = this.order;
    for (let row = 0; row < rows; row++) {
      const offset = row * vocabSize;
      for (let index = 0; index < vocabSize; index++) order[index] = index;
      order.sort((left, right) => scores[offset + left]! - scores[offset + right]! || left - right);
      for (let rank = 0; rank < vocabSize; rank++) this.sorted[rank] = scores[offset + order[rank]!]!;
      softmaxInto(this.sorted, this.probabilities);
      const keepFrom = vocabSize - this.minTokensToKeep;
      let cumulative = 0;
      for (let rank = 0; rank < keepFrom; rank++) {
        cumulative += this.probabilities[rank]!;
        if (Math.fround(cumulative) > this.threshold) break;
        scores[offset + order[rank]!] = -Infinity;
      }
    }
  }
}
