import { VideoLlavaError, describeValue } from '@video-llava/core';
import { softmaxInto } from '../float32-softmax.js';
import { selectTopIndices } from '../top-k.js';
import type { LogitsProcessor } from './logits-processor.js';

/**
 * transformers' `MinPLogitsWarper`: tokens whose probability is below `minP` times the top probability get
 * `-Infinity`, keeping at least the `minTokensToKeep` most probable.
 */
export class MinPLogitsWarper implements LogitsProcessor {
  readonly name = 'min-p';
  private readonly minP: number;
  private probabilities = new Float32Array(0);

  /**
   * @param minP in `[0, 1]`; typical values 0.01-0.2
   * @param minTokensToKeep never keep fewer than this
   * @default minTokensToKeep 1
   */
  constructor(
    minP: number,
    private readonly minTokensToKeep = 1,
  ) {
    if (!(minP >= 0 && minP <= 1)) {
      throw new VideoLlavaError('INVALID_ARGUMENT', `minP must be a number in [0, 1], found ${describeValue(minP)}.`, {
        field: 'minP',
        expected: 'a number in [0, 1]',
        actual: minP,
      });
    }
    this.minP = Math.fround(minP);
  }

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    const vocabSize = scores.length / rows;
    if (this.probabilities.length !== vocabSize) this.probabilities = new Float32Array(vocabSize);
    const probabilities = this.probabilities;
    for (let row = 0; row < rows; row++) {
      const offset = row * vocabSize;
      const top = softmaxInto(scores.subarray(offset, offset + vocabSize), probabilities);
      const threshold = Math.fround(this.minP * top);
      const kept = selectTopIndices(probabilities, 0, vocabSize, Math.min(this.minTokensToKeep, vocabSize));
      for (let index = 0; index < vocabSize; index++) {
        if (probabilities[index]! < threshold && !kept.includes(index)) scores[offset + index] = -Infinity;
      }
    }
  }
}
