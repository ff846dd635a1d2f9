import { parseArgs } from 'node:util';

/** The options `pnpm bench duel` and `pnpm bench cache` share, checked. */
export interface StepBenchArgs {
  dtype: string;
  contexts: number[];
  rounds: number;
  steps: number;
  threads: number;
  layers: { text: number; vision: number };
}

/**
 * Parses `[--dtype D] [--context 274,2074] [--rounds 6] [--steps 5] [--threads 2] [--text-layers 32]
 * [--vision-layers 24]` of a decode-step bench: positive integers, at least 2 steps per burst (the first of each burst
 * is not counted), a dtype among `dtypes`.
 * @param dtypes the dtypes the bench takes, and why (for the error message)
 */
export function parseStepBenchArgs(dtypes: readonly string[], why: string): StepBenchArgs {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      dtype: { type: 'string', default: 'q4' },
      context: { type: 'string', default: '274,2074' },
      rounds: { type: 'string', default: '6' },
      steps: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      'text-layers': { type: 'string', default: '32' },
      'vision-layers': { type: 'string', default: '24' },
    },
  });
  if (!dtypes.includes(values.dtype))
    throw new Error(`--dtype must be ${dtypes.join(', ')} (${why}), found ${values.dtype}`);
  const contexts = values.context.split(',').map(Number);
  const [rounds, steps, threads] = [Number(values.rounds), Number(values.steps), Number(values.threads)];
  const layers = { text: Number(values['text-layers']), vision: Number(values['vision-layers']) };
  for (const [name, value] of [
    ['--rounds', rounds],
    ['--steps', steps],
    ['--threads', threads],
    ...contexts.map((context) => ['--context', context] as const),
  ] as const)
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`${name} must be a positive integer, found ${value}`);
  if (steps < 2)
    throw new Error(`--steps must be at least 2 (the first step of each burst is not counted), found ${steps}`);
  return { dtype: values.dtype, contexts, rounds, steps, threads, layers };
}
