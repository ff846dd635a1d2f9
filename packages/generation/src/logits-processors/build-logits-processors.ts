import type { ResolvedGenerationSettings } from '../resolve-generation-settings.js';
import type { LogitsProcessor } from './logits-processor.js';
import { MinLengthLogitsProcessor, MinNewTokensLengthLogitsProcessor } from './min-length.js';
import { MinPLogitsWarper } from './min-p.js';
import { NoRepeatNGramLogitsProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyLogitsProcessor } from './repetition-penalty.js';
import { TemperatureLogitsWarper } from './temperature.js';
import { TopKLogitsWarper } from './top-k.js';
import { TopPLogitsWarper } from './top-p.js';

/**
 * The processors transformers' `_get_logits_processor` builds, in its order (which matters for exactness):
 * repetition penalty, no-repeat n-gram, min length, min new tokens, then the caller's own processors, then, when
 * sampling only, temperature, top-k, top-p, min-p. Sampling warpers keep at least `eos ids + 1` tokens in beam
 * sampling (so a beam can always continue), 1 otherwise.
 */
export function buildLogitsProcessors(
  settings: ResolvedGenerationSettings,
  custom: readonly LogitsProcessor[] = [],
): LogitsProcessor[] {
  const processors: LogitsProcessor[] = [];
  const eos = settings.eosTokenIds;
  if (settings.repetitionPenalty !== 1)
    processors.push(new RepetitionPenaltyLogitsProcessor(settings.repetitionPenalty));
  if (settings.noRepeatNgramSize > 0) processors.push(new NoRepeatNGramLogitsProcessor(settings.noRepeatNgramSize));
  if (eos.length > 0 && settings.minLength > 0) processors.push(new MinLengthLogitsProcessor(settings.minLength, eos));
  if (eos.length > 0 && settings.minNewTokens !== null && settings.minNewTokens > 0) {
    processors.push(new MinNewTokensLengthLogitsProcessor(settings.promptLength, settings.minNewTokens, eos));
  }
  processors.push(...custom);
  if (settings.doSample) {
    const minTokensToKeep = settings.numBeams > 1 ? Math.max(eos.length, 1) + 1 : 1;
    if (settings.temperature !== 1) processors.push(new TemperatureLogitsWarper(settings.temperature));
    if (settings.topK !== 0) processors.push(new TopKLogitsWarper(settings.topK, minTokensToKeep));
    if (settings.topP < 1) processors.push(new TopPLogitsWarper(settings.topP, minTokensToKeep));
    if (settings.minP !== null) processors.push(new MinPLogitsWarper(settings.minP, minTokensToKeep));
  }
  return processors;
}
