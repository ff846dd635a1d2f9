import type { GenerationOptions } from 'video-llava';
import { UsageError } from './command.js';

/**
 * The decoding flags of `generate` and `chat`: `--max-new-tokens`, `--greedy`, and the sampling flags. Spread into a
 * command's options; {@link parseSamplingFlags} checks them before anything loads.
 */
export const samplingFlags = {
  'max-new-tokens': {
    type: 'string',
    value: 'N',
    description: "the most tokens to generate, an integer >= 1 (default: the checkpoint's generation_config.json)",
  },
  greedy: { type: 'boolean', default: false, description: 'take the most likely token at each step, never sample' },
  temperature: { type: 'string', value: 'T', description: 'sample, with this temperature, a number >= 0' },
  'top-k': {
    type: 'string',
    value: 'K',
    description: 'sample from the K most likely tokens, an integer >= 0 (0: all)',
  },
  'top-p': {
    type: 'string',
    value: 'P',
    description: 'sample from the most likely tokens that together reach probability P, a number in [0, 1]',
  },
  seed: {
    type: 'string',
    value: 'S',
    description: 'sample, with this seed, an integer >= 0: the same seed gives the same answer',
  },
} as const;

/** The values {@link samplingFlags} parse to. */
export interface SamplingFlagValues {
  'max-new-tokens'?: string | undefined;
  greedy: boolean;
  temperature?: string | undefined;
  'top-k'?: string | undefined;
  'top-p'?: string | undefined;
  seed?: string | undefined;
}

const SAMPLING_FLAGS = ['temperature', 'top-k', 'top-p', 'seed'] as const;

interface NumberRule {
  integer: boolean;
  minimum: number;
  /** Whether the minimum itself is refused. */
  exclusiveMinimum?: boolean;
  maximum?: number;
}

function rangeText(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  const low = `${rule.exclusiveMinimum ? '>' : '>='} ${rule.minimum}`;
  return rule.maximum === undefined
    ? `${kind} ${low}`
    : `${kind} ${rule.exclusiveMinimum ? `in (${rule.minimum}, ${rule.maximum}]` : `in [${rule.minimum}, ${rule.maximum}]`}`;
}

/**
 * A flag's number, checked against its range.
 * @throws UsageError `--<flag> must be <range>, found "<value>"`
 */
export function numberArgument(
  value: string | undefined,
  flag: string,
  rule: NumberRule,
  usage: string,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  const valid =
    value.trim() !== '' &&
    Number.isFinite(parsed) &&
    (!rule.integer || Number.isSafeInteger(parsed)) &&
    (rule.exclusiveMinimum ? parsed > rule.minimum : parsed >= rule.minimum) &&
    (rule.maximum === undefined || parsed <= rule.maximum);
  if (!valid) throw new UsageError(`--${flag} must be ${rangeText(rule)}, found ${JSON.stringify(value)}`, usage);
  return parsed;
}

/**
 * Checks {@link samplingFlags} (ranges, `--greedy` against the sampling flags) without touching the model.
 * @returns the generation options they ask for
 * @throws UsageError naming the flag, the accepted range and what was found
 */
export function parseSamplingFlags(values: SamplingFlagValues, usage: string): GenerationOptions {
  const sampling = SAMPLING_FLAGS.filter((flag) => values[flag] !== undefined);
  if (values.greedy && sampling.length > 0)
    throw new UsageError(`--greedy cannot go with --${sampling.join(', --')} (those sample)`, usage);
  const maxNewTokens = numberArgument(values['max-new-tokens'], 'max-new-tokens', { integer: true, minimum: 1 }, usage);
  const temperature = numberArgument(values.temperature, 'temperature', { integer: false, minimum: 0 }, usage);
  const topK = numberArgument(values['top-k'], 'top-k', { integer: true, minimum: 0 }, usage);
  const topP = numberArgument(values['top-p'], 'top-p', { integer: false, minimum: 0, maximum: 1 }, usage);
  const seed = numberArgument(values.seed, 'seed', { integer: true, minimum: 0 }, usage);
  return {
    ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
    ...(values.greedy ? { doSample: false } : {}),
    ...(sampling.length > 0 ? { doSample: true } : {}),
    ...(temperature === undefined ? {} : { temperature }),
    ...(topK === undefined ? {} : { topK }),
    ...(topP === undefined ? {} : { topP }),
    ...(seed === undefined ? {} : { seed }),
  };
}
