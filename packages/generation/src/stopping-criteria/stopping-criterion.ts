import type { FinishReason } from '../generation-result.js';

/**
 * Decides, after a token was appended, whether rows are done, like transformers' `StoppingCriteria`.
 * A row is done when any criterion says so.
 */
export interface StoppingCriterion {
  /** What a row stopped by this criterion reports as its finish reason. */
  readonly reason: FinishReason;
  /**
   * @param inputIds each row's tokens including the one just appended (prompt first)
   * @param done set `done[row] = 1` for the rows this criterion stops; leave the others untouched
   */
  check(inputIds: readonly Int32Array[], done: Uint8Array): void;
}
