import { VideoLlavaError, describeValue } from '@video-llava/core';
import { selectTopIndices } from '../top-k.js';
import type { LogitsProcessor } from './logits-processor.js';

/**
 * transformers' `TopKLogitsWarper`: every score below the k-th largest gets `-Infinity` (scores equal to the k-th
 * largest all stay).
 */
export class TopKLogitsWarper implements LogitsProcessor {
  readonly name = 'top-k';
  private readonly topK: number;

  /**
   * @param topK how many of the highest scores to keep
   * @param minTokensToKeep never keep fewer than this
   * @default minTokensToKeep 1
   */
  constructor(topK: number, minTokensToKeep = 1) {
    if (!Number.isSafeInteger(topK) || topK <= 0) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `topK must be a positive integer (0 turns top-k off), found ${describeValue(topK)}.`,
        {
          field: 'topK',
          expected: 'a positive integer',
          actual: topK,
        },
      );
    }
    this.topK = Math.max(topK, minTokensToKeep);
  }

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    const vocabSize = scores.length / rows;
    const keep = Math.min(this.topK, vocabSize);
    for (let row = 0; row < rows; row++) {
      const offset = row * vocabSize;
      const top = selectTopIndices(scores, offset, vocabSize, keep);
      const threshold = scores[offset + top[top.length - 1]!]!;
      for (let index = offset; index < offset + vocabSize; index++)
        if (scores[index]! < threshold) scores[index] = -Infinity;
    }
  }
}
