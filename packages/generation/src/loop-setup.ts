import type { ProgressCallback } from '@video-llava/core';
import type { CausalLanguageModel } from './causal-language-model.js';
import type { GenerationStep } from './generation-result.js';
import type { CreateDetokenizer } from './incremental-detokenizer.js';
import type { LogitsProcessor } from './logits-processors/logits-processor.js';
import type { RandomGenerator } from './philox-random.js';
import type { PromptBatch } from './prompt-batch.js';
import type { ResolvedGenerationSettings } from './resolve-generation-settings.js';
import type { StoppingCriterion } from './stopping-criteria/stopping-criterion.js';
import { topK } from './top-k.js';

/** What the decoding loops share. @internal */
export interface LoopSetup<TCache> {
  model: CausalLanguageModel<TCache>;
  settings: ResolvedGenerationSettings;
  prompt: PromptBatch;
  processors: readonly LogitsProcessor[];
  criteria: readonly StoppingCriterion[];
  signal: AbortSignal | undefined;
  random: RandomGenerator | undefined;
  seed: number | undefined;
  createDetokenizer: CreateDetokenizer | undefined;
  onStep: ((step: GenerationStep) => void | Promise<void>) | undefined;
  onProgress: ProgressCallback | undefined;
  keepCache: boolean;
}

/** Builds the object an `onStep` hook receives. @internal */
export function stepEvent(
  step: number,
  rowCount: number,
  vocabSize: number,
  logits: Float32Array,
  scores: Float32Array,
): GenerationStep {
  return {
    step,
    rowCount,
    vocabSize,
    logits,
    scores,
    topK: (k, of = 'scores') => topK(of === 'logits' ? logits : scores, k, rowCount),
  };
}

const REASON_PRIORITY = ['eos', 'stop-string', 'stop-criterion', 'length'] as const;

/**
 * Runs the stopping criteria on `inputIds` and returns, per row, the reason it is done now (the most specific one
 * when several apply), or undefined. @internal
 */
export function checkStopping(criteria: readonly StoppingCriterion[], inputIds: readonly Int32Array[]) {
  const reasons: (StoppingCriterion['reason'] | undefined)[] = new Array(inputIds.length).fill(undefined);
  const done = new Uint8Array(inputIds.length);
  for (const criterion of criteria) {
    done.fill(0);
    criterion.check(inputIds, done);
    for (let row = 0; row < inputIds.length; row++) {
      if (!done[row]) continue;
      const current = reasons[row];
      const rank = (reason: string) => {
        const index = REASON_PRIORITY.indexOf(reason as (typeof REASON_PRIORITY)[number]);
        return index < 0 ? REASON_PRIORITY.length : index;
      };
      if (current === undefined || rank(criterion.reason) < rank(current)) reasons[row] = criterion.reason;
    }
  }
  return reasons;
}
