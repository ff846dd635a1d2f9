import { VideoLlavaError, describeValue } from '@video-llava/core';
import { type GenerationConfig, parseGenerationConfig } from '@video-llava/config';
import type { GenerationOptions } from './generation-options.js';

/** The decoding settings that keep their `generation_config.json` meaning once resolved. */
type DecodingSettings = Pick<
  GenerationConfig,
  | 'doSample'
  | 'numBeams'
  | 'temperature'
  | 'topK'
  | 'topP'
  | 'minP'
  | 'repetitionPenalty'
  | 'noRepeatNgramSize'
  | 'lengthPenalty'
  | 'earlyStopping'
  | 'numReturnSequences'
>;

/** The settings a generation actually runs with, after merging options over the config and the length rules. */
export interface ResolvedGenerationSettings extends DecodingSettings {
  /** Total length (prompt included) at which every row stops. */
  maxLength: number;
  /** Total length (prompt included) before which EOS is masked (0: off). */
  minLength: number;
  /** New tokens before which EOS is masked (null: off). */
  minNewTokens: number | null;
  eosTokenIds: number[];
  /** The pad id (the first EOS id when the config has none); null when there is neither. */
  padTokenId: number | null;
  stopStrings: string[];
  /** The prompt length the lengths were computed for. */
  promptLength: number;
  /**
   * True when the requested length (`maxNewTokens` or `maxLength`) went past the model's `maxPositionEmbeddings`
   * and `maxLength` was lowered to it: the rows then end with finish reason `length` at that total.
   */
  cappedByMaxPositionEmbeddings: boolean;
}

function invalid(field: string, expected: string, actual: unknown): VideoLlavaError {
  return new VideoLlavaError(
    'INVALID_ARGUMENT',
    `Generation option ${field} must be ${expected}, found ${describeValue(actual)}.`,
    {
      field,
      expected,
      actual,
    },
  );
}

function integerAtLeast(field: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) throw invalid(field, `an integer >= ${minimum}`, value);
  return value;
}

function tokenIdList(value: number | readonly number[] | null | undefined, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  if (value === null) return [];
  const list = typeof value === 'number' ? [value] : [...value];
  for (const [index, id] of list.entries()) integerAtLeast(`eosTokenId[${index}]`, id, 0);
  return list;
}

function stopStringList(value: string | readonly string[] | undefined, raw: Record<string, unknown>): string[] {
  const source: unknown = value ?? raw['stop_strings'];
  if (source === undefined || source === null) return [];
  const list: unknown[] = typeof source === 'string' ? [source] : Array.isArray(source) ? source : [source];
  for (const [index, item] of list.entries()) {
    if (typeof item !== 'string' || item.length === 0)
      throw invalid(`stopStrings[${index}]`, 'a non-empty string', item);
  }
  return list as string[];
}

/**
 * Merges `options` over `config` (the parsed `generation_config.json`, or transformers' defaults) and applies
 * transformers' `generate` rules: `maxNewTokens` wins over `maxLength`; an untouched default `maxLength` of 20 means
 * 20 new tokens; `minNewTokens` wins over `minLength`; the pad id falls back to the first EOS id; a temperature of 0
 * means greedy. Validates every value. One rule differs from transformers (which only warns): with
 * `maxPositionEmbeddings`, the total length (prompt + new tokens) is capped at it, whatever `maxNewTokens` or
 * `maxLength` asked (`cappedByMaxPositionEmbeddings` says so; the rows end with finish reason `length`).
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` naming the option; `SEQUENCE_TOO_LONG` when the prompt already
 *   reaches `maxLength` (field `maxLength`) or `maxPositionEmbeddings` (field `inputIds`)
 */
export function resolveGenerationSettings(
  config: GenerationConfig | undefined,
  options: GenerationOptions,
  promptLength: number,
  maxPositionEmbeddings?: number,
): ResolvedGenerationSettings {
  const base = config ?? parseGenerationConfig({});
  const maxNewTokens = options.maxNewTokens === undefined ? base.maxNewTokens : options.maxNewTokens;
  const minNewTokens = options.minNewTokens === undefined ? base.minNewTokens : options.minNewTokens;
  let doSample = options.doSample ?? base.doSample;
  const numBeams = integerAtLeast('numBeams', options.numBeams ?? base.numBeams, 1);
  const temperature = options.temperature ?? base.temperature;
  if (!(temperature >= 0) || !Number.isFinite(temperature))
    throw invalid('temperature', 'a finite number >= 0', temperature);
  // transformers: "we may set temperature=0.0 and do_sample=False, but the model defaults to do_sample=True".
  if (temperature === 0) doSample = false;
  const topK = integerAtLeast('topK', options.topK ?? base.topK, 0);
  const topP = options.topP ?? base.topP;
  if (!(topP >= 0 && topP <= 1)) throw invalid('topP', 'a number in [0, 1]', topP);
  const minP = options.minP === undefined ? base.minP : options.minP;
  if (minP !== null && !(minP >= 0 && minP <= 1)) throw invalid('minP', 'a number in [0, 1] or null', minP);
  const repetitionPenalty = options.repetitionPenalty ?? base.repetitionPenalty;
  if (!(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty))
    throw invalid('repetitionPenalty', 'a finite number > 0', repetitionPenalty);
  const noRepeatNgramSize = integerAtLeast('noRepeatNgramSize', options.noRepeatNgramSize ?? base.noRepeatNgramSize, 0);
  const lengthPenalty = options.lengthPenalty ?? base.lengthPenalty;
  if (!Number.isFinite(lengthPenalty)) throw invalid('lengthPenalty', 'a finite number', lengthPenalty);
  const earlyStopping = options.earlyStopping ?? base.earlyStopping;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== 'never')
    throw invalid('earlyStopping', "true, false or 'never'", earlyStopping);
  const numReturnSequences = integerAtLeast(
    'numReturnSequences',
    options.numReturnSequences ?? base.numReturnSequences,
    1,
  );
  if (numReturnSequences > 1) {
    if (numBeams === 1 && !doSample)
      throw invalid('numReturnSequences', '1 for greedy search (use doSample or numBeams)', numReturnSequences);
    if (numBeams > 1 && numReturnSequences > numBeams)
      throw invalid('numReturnSequences', `at most numBeams (${numBeams})`, numReturnSequences);
  }
  const eosTokenIds = tokenIdList(options.eosTokenId, base.eosTokenId);
  let padTokenId = options.padTokenId === undefined ? base.padTokenId : options.padTokenId;
  if (padTokenId !== null) integerAtLeast('padTokenId', padTokenId, 0);
  if (padTokenId === null && eosTokenIds.length > 0) padTokenId = eosTokenIds[0]!;
  const stopStrings = stopStringList(options.stopStrings, base.raw);

  let maxLength = integerAtLeast('maxLength', options.maxLength ?? base.maxLength, 1);
  if (maxNewTokens !== null && maxNewTokens !== undefined) {
    maxLength = integerAtLeast('maxNewTokens', maxNewTokens, 1) + promptLength;
  } else if (options.maxLength === undefined && maxLength === 20) {
    maxLength = 20 + promptLength;
    if (maxPositionEmbeddings !== undefined) maxLength = Math.min(maxLength, maxPositionEmbeddings);
  }
  // transformers only warns past max_position_embeddings and keeps going: rotary positions past the table
  // (the contrib decoder's cos/sin caches have exactly that many rows) and a cache growing without bound
  // (maxNewTokens 1e9) are of no use to anyone, so here the total length is capped there, before any work.
  let cappedByMaxPositionEmbeddings = false;
  if (maxPositionEmbeddings !== undefined) {
    if (promptLength >= maxPositionEmbeddings) {
      throw new VideoLlavaError(
        'SEQUENCE_TOO_LONG',
        `The prompt has ${promptLength} tokens but the model takes at most max_position_embeddings = ${maxPositionEmbeddings} positions (prompt + new tokens): nothing is left to generate. Shorten the prompt (fewer images or frames, less text).`,
        {
          field: 'inputIds',
          expected: `fewer than ${maxPositionEmbeddings} tokens (text_config.max_position_embeddings)`,
          actual: promptLength,
        },
      );
    }
    if (maxLength > maxPositionEmbeddings) {
      maxLength = maxPositionEmbeddings;
      cappedByMaxPositionEmbeddings = true;
    }
  }
  let minLength = integerAtLeast('minLength', options.minLength ?? base.minLength, 0);
  if (minNewTokens !== null && minNewTokens !== undefined)
    minLength = integerAtLeast('minNewTokens', minNewTokens, 0) + promptLength;
  if (promptLength >= maxLength) {
    throw new VideoLlavaError(
      'SEQUENCE_TOO_LONG',
      `The prompt has ${promptLength} tokens but maxLength is ${maxLength}: nothing is left to generate. Raise maxLength or, better, set maxNewTokens.`,
      { field: 'maxLength', expected: `more than ${promptLength}`, actual: maxLength },
    );
  }
  return {
    maxLength,
    minLength,
    minNewTokens: minNewTokens ?? null,
    cappedByMaxPositionEmbeddings,
    doSample,
    numBeams,
    temperature,
    topK,
    topP,
    minP,
    repetitionPenalty,
    noRepeatNgramSize,
    lengthPenalty,
    earlyStopping,
    numReturnSequences,
    eosTokenIds,
    padTokenId,
    stopStrings,
    promptLength,
  };
}
