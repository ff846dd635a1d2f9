import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { LogitsProcessor } from './logits-processor.js';

/**
 * transformers' `NoRepeatNGramLogitsProcessor` (fairseq's rule): a token that would complete an n-gram already
 * present anywhere in the row (prompt included) gets `-Infinity`.
 */
export class NoRepeatNGramLogitsProcessor implements LogitsProcessor {
  readonly name = 'no-repeat n-gram';
  private readonly ngramSize: number;

  /** @param ngramSize n: every n-gram may occur once */
  constructor(ngramSize: number) {
    if (!Number.isSafeInteger(ngramSize) || ngramSize < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `noRepeatNgramSize must be a positive integer here, found ${describeValue(ngramSize)}.`,
        {
          field: 'noRepeatNgramSize',
          expected: 'a positive integer',
          actual: ngramSize,
        },
      );
    }
    this.ngramSize = ngramSize;
  }

  /** The tokens banned after `ids`: those that followed an earlier occurrence of its last n-1 tokens. */
  bannedTokens(ids: Int32Array): number[] {
    const size = this.ngramSize;
    const length = ids.length;
    if (length + 1 < size) return [];
    const prefixStart = length - size + 1;
    const banned: number[] = [];
    for (let start = 0; start + size <= length; start++) {
      let same = true;
      for (let offset = 0; offset < size - 1; offset++) {
        if (ids[start + offset] !== ids[prefixStart + offset]) {
          same = false;
          break;
        }
      }
      if (same) banned.push(ids[start + size - 1]!);
    }
    return banned;
  }

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    const vocabSize = scores.length / rows;
    for (let row = 0; row < rows; row++) {
      for (const token of this.bannedTokens(inputIds[row]!)) {
        if (token >= 0 && token < vocabSize) scores[row * vocabSize + token] = -Infinity;
      }
    }
  }
}
