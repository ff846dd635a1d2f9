import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { GenerationOptions } from './generation-options.js';

const NAMES: Record<string, keyof GenerationOptions> = {
  max_new_tokens: 'maxNewTokens',
  max_length: 'maxLength',
  min_length: 'minLength',
  min_new_tokens: 'minNewTokens',
  do_sample: 'doSample',
  num_beams: 'numBeams',
  temperature: 'temperature',
  top_k: 'topK',
  top_p: 'topP',
  min_p: 'minP',
  repetition_penalty: 'repetitionPenalty',
  no_repeat_ngram_size: 'noRepeatNgramSize',
  length_penalty: 'lengthPenalty',
  early_stopping: 'earlyStopping',
  num_return_sequences: 'numReturnSequences',
  eos_token_id: 'eosTokenId',
  pad_token_id: 'padTokenId',
  stop_strings: 'stopStrings',
  seed: 'seed',
};

/**
 * Maps `generate()` keyword arguments as transformers spells them (`{ "num_beams": 3, "length_penalty": 0.5 }`,
 * e.g. a row of a reference file) to {@link GenerationOptions}. Only the keys present are set, so the rest still
 * comes from `generation_config.json`, exactly as in a transformers call.
 *
 * @throws VideoLlavaError `UNSUPPORTED` for a key this package does not implement (naming it)
 */
export function generationOptionsFromTransformers(kwargs: Readonly<Record<string, unknown>>): GenerationOptions {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const name = NAMES[key];
    if (name === undefined) {
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `The transformers generate option ${JSON.stringify(key)} is not supported by @video-llava/generation (value ${describeValue(value)}).`,
        {
          field: key,
          expected: Object.keys(NAMES).join(', '),
          actual: key,
        },
      );
    }
    options[name] = value;
  }
  return options as GenerationOptions;
}
