import { FieldReader, asJsonObject } from './field-reader.js';
import type { GenerationConfig, VideoLlavaConfig } from './types.js';

/**
 * Validates a parsed `generation_config.json` and fills transformers' `GenerationConfig` defaults
 * (greedy, `max_length` 20, one beam, temperature 1, top-k 50, top-p 1). When the file lacks token ids,
 * they come from the model config's `text_config`, as transformers does.
 *
 * @param json the parsed JSON (`{}` when the checkpoint has no such file)
 * @param file where it came from, for error messages
 * @param modelConfig the model config, for token id fallbacks
 */
export function parseGenerationConfig(
  json: unknown,
  file = 'generation_config.json',
  modelConfig?: VideoLlavaConfig,
): GenerationConfig {
  const reader = new FieldReader(asJsonObject(json, file), file);
  const text = modelConfig?.textConfig;
  const earlyStoppingValue = reader.json['early_stopping'];
  let earlyStopping: boolean | 'never' = false;
  if (earlyStoppingValue === 'never') earlyStopping = 'never';
  else if (earlyStoppingValue !== undefined && earlyStoppingValue !== null)
    earlyStopping = reader.boolean('early_stopping', false);
  const doSample = reader.boolean('do_sample', false);
  // transformers only needs a positive temperature when it samples (greedy configs sometimes carry 0).
  const temperature = reader.number('temperature', 1, doSample ? { above: 0 } : { min: 0 });
  return {
    maxLength: reader.integer('max_length', 20, { min: 1 }),
    maxNewTokens: reader.optionalInteger('max_new_tokens', { min: 1 }),
    minLength: reader.integer('min_length', 0, { min: 0 }),
    minNewTokens: reader.optionalInteger('min_new_tokens', { min: 0 }),
    doSample,
    numBeams: reader.integer('num_beams', 1, { min: 1 }),
    temperature,
    topK: reader.integer('top_k', 50, { min: 0 }),
    topP: reader.number('top_p', 1, { min: 0, max: 1 }),
    minP: reader.optionalNumber('min_p', { min: 0, max: 1 }),
    repetitionPenalty: reader.number('repetition_penalty', 1, { above: 0 }),
    noRepeatNgramSize: reader.integer('no_repeat_ngram_size', 0, { min: 0 }),
    lengthPenalty: reader.number('length_penalty', 1),
    earlyStopping,
    numReturnSequences: reader.integer('num_return_sequences', 1, { min: 1 }),
    bosTokenId: reader.optionalInteger('bos_token_id', { min: 0 }) ?? text?.bosTokenId ?? null,
    eosTokenId: reader.integerList('eos_token_id', text?.eosTokenId ?? []),
    padTokenId: reader.optionalInteger('pad_token_id') ?? text?.padTokenId ?? null,
    useCache: reader.boolean('use_cache', true),
    raw: reader.json,
  };
}
