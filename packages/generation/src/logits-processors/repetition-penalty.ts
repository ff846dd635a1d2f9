import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { LogitsProcessor } from './logits-processor.js';

/**
 * transformers' `RepetitionPenaltyLogitsProcessor` (CTRL's rule): for every distinct token already in a row
 * (prompt and padding included), a negative score is multiplied by the penalty and a positive one divided by it,
 * once per token, in float32.
 */
export class RepetitionPenaltyLogitsProcessor implements LogitsProcessor {
  readonly name = 'repetition penalty';
  private readonly penalty: number;
  private readonly promptIgnoreLength: number;
  private stamps = new Uint32Array(0);
  private stamp = 0;

  /**
   * @param penalty above 1 discourages repeats, below 1 encourages them
   * @param promptIgnoreLength leading positions left out (transformers' `prompt_ignore_length`)
   * @default promptIgnoreLength 0
   */
  constructor(penalty: number, promptIgnoreLength = 0) {
    if (!(penalty > 0) || !Number.isFinite(penalty)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `repetitionPenalty must be a finite number above 0, found ${describeValue(penalty)}.`,
        {
          field: 'repetitionPenalty',
          expected: 'a finite number > 0',
          actual: penalty,
        },
      );
    }
    this.penalty = Math.fround(penalty);
    this.promptIgnoreLength = promptIgnoreLength;
  }

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    const vocabSize = scores.length / rows;
    if (this.stamps.length !== vocabSize) {
      this.stamps = new Uint32Array(vocabSize);
      this.stamp = 0;
    }
    for (let row = 0; row < rows; row++) {
      // A fresh stamp per row marks the tokens already penalized, without clearing a vocab-sized array.
      this.stamp = (this.stamp + 1) >>> 0;
      if (this.stamp === 0) {
        this.stamps.fill(0);
        this.stamp = 1;
      }
      const ids = inputIds[row]!;
      const offset = row * vocabSize;
      for (let position = this.promptIgnoreLength; position < ids.length; position++) {
        const token = ids[position]!;
        if (token < 0 || token >= vocabSize || this.stamps[token] === this.stamp) continue;
        this.stamps[token] = this.stamp;
        const score = scores[offset + token]!;
        scores[offset + token] = score < 0 ? score * this.penalty : score / this.penalty;
      }
    }
  }
}
