import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { StoppingCriterion } from './stopping-criterion.js';

/** Turns token ids into text; for stop strings. Typically `(ids) => tokenizer.decode(ids)`. */
export type DecodeTokens = (tokenIds: readonly number[]) => string;

/**
 * Stops a row when its newest token completes one of the stop strings, like transformers' `StopStringCriteria`:
 * the string may start anywhere (inside the prompt, inside a token) but must not have been complete before this
 * token, and the token may run past its end ("overhang").
 *
 * transformers matches token strings from the vocabulary; without a tokenizer, this criterion decodes the last
 * `4 * longestStopString + 2` tokens of the row (enough for a string of byte-fallback tokens) with and without the
 * newest token, and stops when a stop string occurs in the first text and not in the second. Decoding is the
 * caller's, so the criterion works with any tokenizer; it costs two decodes of a short window per row and step.
 */
export class StopStringCriterion implements StoppingCriterion {
  readonly reason = 'stop-string' as const;
  private readonly window: number;

  /**
   * @param stopStrings the strings to stop on (non-empty)
   * @param decode turns ids into text
   */
  constructor(
    private readonly stopStrings: readonly string[],
    private readonly decode: DecodeTokens,
  ) {
    for (const [index, value] of stopStrings.entries()) {
      if (typeof value !== 'string' || value.length === 0) {
        throw new VideoLlavaError(
          'INVALID_ARGUMENT',
          `stopStrings[${index}] must be a non-empty string, found ${describeValue(value)}.`,
          {
            field: `stopStrings[${index}]`,
            expected: 'a non-empty string',
            actual: value,
          },
        );
      }
    }
    this.window = 4 * Math.max(0, ...stopStrings.map((value) => value.length)) + 2;
  }

  check(inputIds: readonly Int32Array[], done: Uint8Array): void {
    for (let row = 0; row < inputIds.length; row++) {
      const ids = inputIds[row]!;
      if (ids.length === 0) continue;
      const window = Array.from(ids.subarray(Math.max(0, ids.length - this.window)));
      const text = this.decode(window);
      if (!this.stopStrings.some((value) => text.includes(value))) continue;
      const before = this.decode(window.slice(0, -1));
      if (this.stopStrings.some((value) => text.includes(value) && !before.includes(value))) done[row] = 1;
    }
  }
}
