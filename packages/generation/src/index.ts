export type {
  CausalLanguageModel,
  LanguageModelInput,
  LanguageModelOutput,
  LanguageModelStepInput,
} from './causal-language-model.js';
export { generate, streamGeneration } from './generate.js';
export type { GenerationStream } from './generate.js';
export { singlePassStream } from './single-pass-stream.js';
export type { SinglePassStream } from './single-pass-stream.js';
export type { GenerateOptions, GenerationOptions } from './generation-options.js';
export type { FinishReason, GenerationDelta, GenerationResult, GenerationStep } from './generation-result.js';
export type { CreateDetokenizer, IncrementalDetokenizer } from './incremental-detokenizer.js';
export { resolveGenerationSettings } from './resolve-generation-settings.js';
export type { ResolvedGenerationSettings } from './resolve-generation-settings.js';
export { generationOptionsFromTransformers } from './options-from-transformers.js';
export { PhiloxRandom, philox4x32 } from './philox-random.js';
export type { RandomGenerator } from './philox-random.js';
export { topK } from './top-k.js';
export type { TopKResult } from './top-k.js';
export { softmaxInto, logSoftmaxInto } from './float32-softmax.js';
export { applyLogitsProcessors } from './logits-processors/logits-processor.js';
export type { LogitsProcessor } from './logits-processors/logits-processor.js';
export { buildLogitsProcessors } from './logits-processors/build-logits-processors.js';
export { RepetitionPenaltyLogitsProcessor } from './logits-processors/repetition-penalty.js';
export { NoRepeatNGramLogitsProcessor } from './logits-processors/no-repeat-ngram.js';
export { MinLengthLogitsProcessor, MinNewTokensLengthLogitsProcessor } from './logits-processors/min-length.js';
export { TemperatureLogitsWarper } from './logits-processors/temperature.js';
export { TopKLogitsWarper } from './logits-processors/top-k.js';
export { TopPLogitsWarper } from './logits-processors/top-p.js';
export { MinPLogitsWarper } from './logits-processors/min-p.js';
export type { StoppingCriterion } from './stopping-criteria/stopping-criterion.js';
export { buildStoppingCriteria } from './stopping-criteria/build-stopping-criteria.js';
export { MaxLengthCriterion } from './stopping-criteria/max-length-criterion.js';
export { EosTokenCriterion } from './stopping-criteria/eos-token-criterion.js';
export { StopStringCriterion } from './stopping-criteria/stop-string-criterion.js';
export type { DecodeTokens } from './stopping-criteria/stop-string-criterion.js';
