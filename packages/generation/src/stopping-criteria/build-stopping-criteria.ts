import { VideoLlavaError } from '@video-llava/core';
import type { ResolvedGenerationSettings } from '../resolve-generation-settings.js';
import { EosTokenCriterion } from './eos-token-criterion.js';
import { MaxLengthCriterion } from './max-length-criterion.js';
import { type DecodeTokens, StopStringCriterion } from './stop-string-criterion.js';
import type { StoppingCriterion } from './stopping-criterion.js';

/** transformers' `_get_stopping_criteria`: max length, stop strings, EOS, then the caller's own. */
export function buildStoppingCriteria(
  settings: ResolvedGenerationSettings,
  decode: DecodeTokens | undefined,
  custom: readonly StoppingCriterion[] = [],
): StoppingCriterion[] {
  const criteria: StoppingCriterion[] = [new MaxLengthCriterion(settings.maxLength)];
  if (settings.stopStrings.length > 0) {
    if (!decode) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        'stopStrings need a decode function (ids -> text), and none was given.',
        {
          field: 'decode',
          expected: 'a function (tokenIds: readonly number[]) => string',
          actual: undefined,
        },
      );
    }
    criteria.push(new StopStringCriterion(settings.stopStrings, decode));
  }
  if (settings.eosTokenIds.length > 0) criteria.push(new EosTokenCriterion(settings.eosTokenIds));
  criteria.push(...custom);
  return criteria;
}
