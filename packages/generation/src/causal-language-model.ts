import type { Tensor } from '@video-llava/core';

/**
 * What the decoding loop gives a language model to run: a block of new tokens per row, the attention mask over
 * everything the model has seen for that row (cached positions plus the new ones), and transformers' position ids.
 *
 * All tensors are `int64`, C order. Rows are sequences of one batch; prompts are left padded.
 */
export interface LanguageModelInput {
  /** The tokens to run, `[rows, newLength]`: the whole (left-padded) prompt for a prefill, one token per row for a step. */
  inputIds: Tensor<'int64'>;
  /**
   * `[rows, pastLength + newLength]`: 1 for real tokens, 0 for left padding. It covers the cached positions and the
   * new ones, like transformers' `attention_mask` during `generate`.
   */
  attentionMask: Tensor<'int64'>;
  /**
   * `[rows, newLength]`: transformers' positions, `cumsum(attentionMask) - 1` with padded positions set to 1,
   * sliced to the new tokens. A model that derives them itself may ignore this.
   */
  positionIds: Tensor<'int64'>;
  /** Aborted when the caller cancels the generation; a model should stop as soon as it can and reject. */
  signal?: AbortSignal | undefined;
}

/** A decoding step: the new tokens plus the cache that holds every earlier position. */
export interface LanguageModelStepInput<TCache> extends LanguageModelInput {
  /**
   * The cache returned by the previous `prefill`, `forward` or `selectCacheRows`. Ownership moves into the call:
   * the loop never touches this value again, so the model may reuse its memory or release it.
   */
  cache: TCache;
}

/** What a forward pass returns. */
export interface LanguageModelOutput<TCache> {
  /**
   * float32 logits of the **last** position of each row, `[rows, vocabSize]` row-major (`rows * vocabSize` values).
   * The loop reads it before the next call and never writes to it, so the model may reuse the buffer afterwards.
   */
  logits: Float32Array;
  /** The cache after this pass: it holds `attentionMask.dims[1]` positions per row. The loop owns it from now on. */
  cache: TCache;
}

/**
 * A causal language model with a key/value cache: what `@video-llava/generation` decodes from. Implement it once per
 * model family (Video-LLaVA's language model in `@video-llava/model`, the mocks in `@video-llava/generation/testing`).
 *
 * Call order for one generation: `prefill` once, then `forward` once per new token (never after the last one), with
 * `selectCacheRows` between steps when rows are expanded (beam search, `numReturnSequences`) or reordered (beams),
 * and `releaseCache` once for the final cache (unless the caller asked to keep it). Only one call is in flight at a
 * time. Ownership of a cache moves into every call that receives one (`forward`, `selectCacheRows`,
 * `releaseCache`); a call that rejects must have released what it received.
 *
 * @typeParam TCache the model's cache (e.g. ONNX `present.*` tensors). The loop treats it as opaque.
 */
export interface CausalLanguageModel<TCache = unknown> {
  /** Width of the logits (`text_config.vocab_size`). */
  readonly vocabSize: number;
  /**
   * `max_position_embeddings`, when the model has such a limit. Used as transformers does: it caps the default
   * `max_length` (20 new tokens) when neither `maxLength` nor `maxNewTokens` was given.
   */
  readonly maxPositionEmbeddings?: number | undefined;
  /**
   * Runs the prompt (an empty cache) and returns the logits of its last position. Models with extra prompt inputs
   * (pixel values, a cached prefix) bind them in the object handed to `generate`; `inputIds` stays the full prompt.
   */
  prefill(input: LanguageModelInput): Promise<LanguageModelOutput<TCache>>;
  /** Runs one new token per row on top of `input.cache`. */
  forward(input: LanguageModelStepInput<TCache>): Promise<LanguageModelOutput<TCache>>;
  /**
   * Gathers cache rows: row `i` of the result is row `rowIndices[i]` of `cache`. The result may have more rows than
   * `cache` (expansion, e.g. `[0, 0, 0, 1, 1, 1]` for 3 beams over a batch of 2) or the same number (beam reorder,
   * transformers' `reorder_cache`). Required for beam search; optional otherwise (without it, a prompt that must be
   * expanded is prefilled already expanded).
   */
  selectCacheRows?(cache: TCache, rowIndices: Int32Array, signal?: AbortSignal): Promise<TCache>;
  /** Frees a cache the loop no longer needs. */
  releaseCache?(cache: TCache): void | Promise<void>;
}
