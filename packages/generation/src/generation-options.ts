import type { Tensor, ProgressCallback } from '@video-llava/core';
import type { GenerationConfig } from '@video-llava/config';
import type { CausalLanguageModel } from './causal-language-model.js';
import type { GenerationStep } from './generation-result.js';
import type { CreateDetokenizer } from './incremental-detokenizer.js';
import type { LogitsProcessor } from './logits-processors/logits-processor.js';
import type { RandomGenerator } from './philox-random.js';
import type { DecodeTokens } from './stopping-criteria/stop-string-criterion.js';
import type { StoppingCriterion } from './stopping-criteria/stopping-criterion.js';

/**
 * Decoding settings, with transformers' names and meaning (`max_new_tokens` -> `maxNewTokens`, ...). Each one
 * left undefined comes from the checkpoint's `generation_config.json` (the `generationConfig` option), and from
 * transformers' `GenerationConfig` defaults where that file is silent.
 */
export interface GenerationOptions {
  /**
   * New tokens to generate at most. Takes precedence over `maxLength` (as in transformers). The total (prompt + new
   * tokens) is capped at the model's `maxPositionEmbeddings` (`text_config.max_position_embeddings`): a larger
   * request generates up to that total and ends with finish reason `length`.
   * @default from generation_config.json, else unset
   */
  maxNewTokens?: number | null | undefined;
  /**
   * Total length (prompt included) to stop at. When neither this nor `maxNewTokens` is set and the config holds
   * the default 20, transformers generates 20 new tokens (capped by `maxPositionEmbeddings`); so does this.
   * @default from generation_config.json, else 20
   */
  maxLength?: number | undefined;
  /**
   * Total length (prompt included) before which end-of-sequence ids are masked.
   * @default 0
   */
  minLength?: number | undefined;
  /**
   * New tokens before which end-of-sequence ids are masked; takes precedence over `minLength`.
   * @default unset
   */
  minNewTokens?: number | null | undefined;
  /**
   * Sample instead of taking the best token (with `numBeams` > 1: beam sampling). A `temperature` of 0 means greedy.
   * @default false
   */
  doSample?: boolean | undefined;
  /**
   * Beam search with this many beams when above 1.
   * @default 1
   */
  numBeams?: number | undefined;
  /**
   * Sampling temperature (sampling only).
   * @default 1
   */
  temperature?: number | undefined;
  /**
   * Keep the k best tokens (sampling only); 0 turns it off.
   * @default 50
   */
  topK?: number | undefined;
  /**
   * Nucleus sampling mass (sampling only); 1 turns it off.
   * @default 1
   */
  topP?: number | undefined;
  /**
   * Min-p sampling threshold relative to the top probability (sampling only); null turns it off.
   * @default unset
   */
  minP?: number | null | undefined;
  /**
   * CTRL repetition penalty on every token already in the sequence, prompt included; 1 turns it off.
   * @default 1
   */
  repetitionPenalty?: number | undefined;
  /**
   * Forbid repeating any n-gram of this size (prompt included); 0 turns it off.
   * @default 0
   */
  noRepeatNgramSize?: number | undefined;
  /**
   * Beam search: finished scores are divided by `length ** lengthPenalty` (new tokens only).
   * @default 1
   */
  lengthPenalty?: number | undefined;
  /**
   * Beam search stopping: `true` stops once `numBeams` hypotheses are finished; `false` stops when the best running
   * beam, scored at its current length, cannot beat the worst finished one; `'never'` scores it at the maximum
   * length instead when `lengthPenalty > 0` (at the current length otherwise), as transformers does.
   * @default false
   */
  earlyStopping?: boolean | 'never' | undefined;
  /**
   * Sequences returned per batch row (at most `numBeams` for beam search; needs sampling otherwise).
   * @default 1
   */
  numReturnSequences?: number | undefined;
  /**
   * End-of-sequence id(s); an empty list disables EOS stopping.
   * @default from generation_config.json / config.json
   */
  eosTokenId?: number | readonly number[] | null | undefined;
  /**
   * Padding id written after a row has finished (beam search: see `GenerationResult.generatedIds` for a pad id of 0).
   * @default from generation_config.json, else the first EOS id
   */
  padTokenId?: number | null | undefined;
  /**
   * Stop a sequence when its text completes one of these strings (needs `decode`).
   * @default `stop_strings` from generation_config.json, else none
   */
  stopStrings?: string | readonly string[] | undefined;
  /**
   * Seed of the default sampler (Philox4x32-10): the same seed, model and options give the same tokens.
   * @default a random seed, reported in the result
   */
  seed?: number | undefined;
  /** A custom source of uniform numbers for sampling instead of the seeded default. */
  randomGenerator?: RandomGenerator | undefined;
}

/** Everything `generate` and `streamGeneration` take. */
export interface GenerateOptions<TCache = unknown> extends GenerationOptions {
  /** The language model to decode from. */
  model: CausalLanguageModel<TCache>;
  /** The prompt, `[batch, length]`, left padded: an int64 tensor or arrays of ids. */
  inputIds: Tensor<'int64'> | readonly (readonly number[])[];
  /**
   * 1 for real tokens, 0 for padding, same shape as `inputIds`.
   * @default inferred as transformers does: `inputIds != padTokenId` when the pad id occurs and is not an EOS id, else all ones
   */
  attentionMask?: Tensor<'int64'> | readonly (readonly number[])[] | undefined;
  /** The checkpoint's parsed `generation_config.json` (`parseGenerationConfig`); the options above override it. */
  generationConfig?: GenerationConfig | undefined;
  /** Cancels the generation: `generate` then resolves with the tokens so far and finish reason `abort`. */
  signal?: AbortSignal | undefined;
  /** Makes one incremental detokenizer per returned sequence, for text in deltas and `texts` in the result. */
  createDetokenizer?: CreateDetokenizer | undefined;
  /** Decodes ids to text; required by `stopStrings`. */
  decode?: DecodeTokens | undefined;
  /** Called at every step with the logits and the processed scores (e.g. to record the top-5 tokens). */
  onStep?: ((step: GenerationStep) => void | Promise<void>) | undefined;
  /** Progress: `prefill` (prompt tokens) then `decode` (new tokens). */
  onProgress?: ProgressCallback | undefined;
  /** Extra logits processors, run after the built-in ones and before the sampling warpers (as in transformers). */
  logitsProcessors?: readonly LogitsProcessor[] | undefined;
  /** Extra stopping criteria, checked with the built-in ones. */
  stoppingCriteria?: readonly StoppingCriterion[] | undefined;
  /**
   * Hand the final cache to the caller (in the result) instead of releasing it; greedy search and sampling only.
   * @default false
   */
  keepCache?: boolean | undefined;
}
