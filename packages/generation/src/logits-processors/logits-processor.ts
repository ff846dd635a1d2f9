/**
 * Changes next-token scores before a token is chosen, like transformers' `LogitsProcessor`.
 *
 * `scores` holds `inputIds.length` rows of `vocabSize` float32 values, row-major; a processor edits it in place.
 * They are raw logits for greedy search and sampling, and log-probabilities (after `log_softmax`) for beam search,
 * exactly as in transformers. Float32Array stores round to float32, so `scores[i] = scores[i] * factor` with a
 * float32 `factor` is PyTorch's float32 multiply.
 */
export interface LogitsProcessor {
  /** A short name for messages, e.g. `"repetition penalty"`. */
  readonly name: string;
  /**
   * @param inputIds each row's tokens so far: the prompt (with its left padding) then the new tokens; all rows
   *   have the same length
   * @param scores `[rows, vocabSize]`, modified in place
   */
  process(inputIds: readonly Int32Array[], scores: Float32Array): void;
}

/** Applies processors in order, like transformers' `LogitsProcessorList`. */
export function applyLogitsProcessors(
  processors: readonly LogitsProcessor[],
  inputIds: readonly Int32Array[],
  scores: Float32Array,
): void {
  for (const processor of processors) processor.process(inputIds, scores);
}
