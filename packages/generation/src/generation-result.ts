import type { TopKResult } from './top-k.js';

/**
 * Why a sequence ended:
 * - `eos`: it produced an end-of-sequence id (included in its tokens);
 * - `stop-string`: its last token completed a stop string;
 * - `stop-criterion`: a caller-supplied stopping criterion said so;
 * - `length`: it reached `maxLength` / `maxNewTokens`;
 * - `abort`: the `signal` was aborted (or a stream's consumer stopped reading) first.
 */
export type FinishReason = 'eos' | 'stop-string' | 'stop-criterion' | 'length' | 'abort';

/** What `generate` returns. Sequences are ordered batch row first, then return sequence (best beam first). */
export interface GenerationResult<TCache = unknown> {
  /**
   * The new token ids of each returned sequence, all padded to one length exactly like transformers'
   * `generate(...)[:, promptLength:]`: rows that finished early continue with the pad id. Beam search fills with
   * transformers' `pad_token_id or eos_token_id[0]` (a pad id of 0 counts as unset, so the first EOS id fills), or -1
   * without EOS ids.
   */
  generatedIds: number[][];
  /** How many of `generatedIds[i]` are real tokens (up to and including the EOS that ended it); the rest is padding. */
  lengths: number[];
  /** Why each sequence ended. */
  finishReasons: FinishReason[];
  /** The decoded text of each sequence's real tokens, when a detokenizer was given. */
  texts?: string[] | undefined;
  /** Beam search only: each returned sequence's score (sum of log-probabilities / length ** lengthPenalty), float32. */
  sequenceScores?: number[] | undefined;
  /** The (padded) prompt length every row had. */
  promptLength: number;
  /** The seed sampling used (pass it back to repeat a run); undefined for greedy and beam search or a custom generator. */
  seed?: number | undefined;
  /**
   * With `keepCache: true` (greedy search and sampling only): the final cache, now the caller's to release. It holds
   * `cacheLength` positions per row: the prompt and every new token except the last one, which was never fed back.
   */
  cache?: TCache | undefined;
  /** Positions per row held by `cache`. */
  cacheLength?: number | undefined;
}

/**
 * One new token of one sequence, as streamed. Greedy search and sampling stream each token as it is chosen; beam
 * search streams the returned sequences once it has finished (the best beams are only known at the end).
 */
export interface GenerationDelta {
  /** Which returned sequence (batch row first, then return sequence). */
  sequence: number;
  /** Index of this token among the sequence's new tokens (0 for the first; the token count on a closing delta). */
  step: number;
  /**
   * The token id; undefined on a closing delta, which only carries the finish reason and any pending text of a
   * sequence that ended without a token of its own (an abort).
   */
  tokenId: number | undefined;
  /** The text this token completes, from the detokenizer; `''` without one (or while a character is pending). */
  text: string;
  /** Set on the sequence's last token: why it ended. */
  finishReason?: FinishReason | undefined;
}

/** What an `onStep` hook sees, before the next tokens are chosen. Arrays are valid only during the call. */
export interface GenerationStep {
  /** Index of the token about to be chosen among the new tokens (0 for the first). */
  step: number;
  /** Rows in this step: batch size times `numBeams` (beam search) or `numReturnSequences` (sampling). */
  rowCount: number;
  /** Width of a row. */
  vocabSize: number;
  /** The model's float32 logits, `[rowCount, vocabSize]`. */
  logits: Float32Array;
  /**
   * After the logits processors: what transformers records as `scores` with `output_scores=True` (processed logits
   * for greedy search and sampling; processed log-probabilities for beam search).
   */
  scores: Float32Array;
  /** The `k` best of each row of `scores` (or of `logits`), best first. */
  topK(k: number, of?: 'scores' | 'logits'): TopKResult;
}
