import { VideoLlavaError, describeValue } from '@video-llava/core';
import { beamSearchLoop } from './beam-search-loop.js';
import type { GenerateOptions } from './generation-options.js';
import type { GenerationDelta, GenerationResult } from './generation-result.js';
import { buildLogitsProcessors } from './logits-processors/build-logits-processors.js';
import type { LoopSetup } from './loop-setup.js';
import { PhiloxRandom, randomSeed } from './philox-random.js';
import { preparePromptBatch } from './prompt-batch.js';
import { resolveGenerationSettings } from './resolve-generation-settings.js';
import { samplingLoop } from './sampling-loop.js';
import { singlePassStream } from './single-pass-stream.js';
import { buildStoppingCriteria } from './stopping-criteria/build-stopping-criteria.js';

function checkModel(model: unknown): void {
  const candidate = model as { vocabSize?: unknown; prefill?: unknown; forward?: unknown } | undefined;
  if (!candidate || typeof candidate.prefill !== 'function' || typeof candidate.forward !== 'function') {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      'model must be a CausalLanguageModel (with prefill and forward methods).',
      {
        field: 'model',
        expected: 'an object with vocabSize, prefill() and forward()',
        actual: describeValue(model),
      },
    );
  }
  if (!Number.isSafeInteger(candidate.vocabSize) || (candidate.vocabSize as number) < 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `model.vocabSize must be a positive integer, found ${describeValue(candidate.vocabSize)}.`,
      {
        field: 'model.vocabSize',
        expected: 'a positive integer',
        actual: candidate.vocabSize,
      },
    );
  }
}

/** Validates the options and builds the loop. @internal */
function createLoop<TCache>(
  options: GenerateOptions<TCache>,
  signal: AbortSignal | undefined,
): AsyncGenerator<GenerationDelta, GenerationResult<TCache>, void> {
  checkModel(options.model);
  const model = options.model;
  // The prompt's length is needed for the length rules, and the settings (pad, EOS) to read the prompt: resolve
  // the token ids first from the config and options, then everything with the real prompt length.
  const preliminary = resolveGenerationSettings(
    options.generationConfig,
    { ...options, maxLength: Number.MAX_SAFE_INTEGER, maxNewTokens: null },
    0,
  );
  const prompt = preparePromptBatch(
    options.inputIds,
    options.attentionMask,
    preliminary.padTokenId,
    preliminary.eosTokenIds,
    model.vocabSize,
  );
  const settings = resolveGenerationSettings(
    options.generationConfig,
    options,
    prompt.length,
    model.maxPositionEmbeddings,
  );
  if (settings.numBeams > 1 && typeof model.selectCacheRows !== 'function') {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `Beam search (numBeams ${settings.numBeams}) needs a model that can reorder its cache (selectCacheRows), and this one cannot.`,
      {
        field: 'model.selectCacheRows',
        expected: 'a function',
        actual: undefined,
      },
    );
  }
  if (options.randomGenerator !== undefined && typeof options.randomGenerator?.nextFloat !== 'function') {
    throw new VideoLlavaError('INVALID_ARGUMENT', 'randomGenerator must have a nextFloat() method.', {
      field: 'randomGenerator',
      expected: '{ nextFloat(): number }',
      actual: describeValue(options.randomGenerator),
    });
  }
  let seed: number | undefined;
  let random = options.randomGenerator;
  if (settings.doSample && random === undefined) {
    seed = options.seed ?? randomSeed();
    random = new PhiloxRandom(seed);
  }
  const setup: LoopSetup<TCache> = {
    model,
    settings,
    prompt,
    processors: buildLogitsProcessors(settings, options.logitsProcessors),
    criteria: buildStoppingCriteria(settings, options.decode, options.stoppingCriteria),
    signal,
    random,
    seed,
    createDetokenizer: options.createDetokenizer,
    onStep: options.onStep,
    onProgress: options.onProgress,
    keepCache: options.keepCache === true && settings.numBeams === 1,
  };
  return settings.numBeams > 1 ? beamSearchLoop(setup) : samplingLoop(setup);
}

/**
 * Generates tokens from a causal language model with transformers' `generate` semantics: greedy search, sampling
 * (seeded), beam search and beam sampling; repetition penalty, no-repeat n-gram, min length / new tokens,
 * temperature, top-k, top-p, min-p; stopping on EOS ids, max length / new tokens, stop strings; batches whose rows
 * finish separately (padded with the pad id); `generation_config.json` defaults. An aborted `signal` resolves with
 * the tokens so far (finish reason `abort`), never rejects. The model's cache is released before this resolves
 * (unless `keepCache`).
 *
 * @example
 * ```ts
 * const result = await generate({ model, inputIds: [[1, 3148, 1001]], generationConfig, maxNewTokens: 32 });
 * result.generatedIds[0]; // new token ids
 * ```
 * @throws VideoLlavaError `INVALID_ARGUMENT` / `SHAPE_MISMATCH` for bad options or inputs (naming the field),
 *   `SEQUENCE_TOO_LONG` when the prompt leaves no room, `UNSUPPORTED` for beam search on a model without
 *   `selectCacheRows`, `RUNTIME_ERROR` when the model fails or returns NaN
 */
export async function generate<TCache = unknown>(options: GenerateOptions<TCache>): Promise<GenerationResult<TCache>> {
  const loop = createLoop(options, options.signal);
  for (;;) {
    const next = await loop.next();
    if (next.done) return next.value;
  }
}

/**
 * A running generation as an async iterable of {@link GenerationDelta}s (token ids and text), plus its final result.
 * Iterate it once; breaking out of the loop stops the generation (like an abort) and releases the model's cache.
 */
export interface GenerationStream<TCache = unknown> extends AsyncIterable<GenerationDelta> {
  /** The final result (it starts the generation if nobody iterates). Resolves after the last delta. */
  readonly result: Promise<GenerationResult<TCache>>;
}

/**
 * Like {@link generate}, streamed: tokens (and text, with `createDetokenizer`) as they are chosen.
 *
 * @example
 * ```ts
 * const stream = streamGeneration({ model, inputIds, generationConfig, createDetokenizer: () => tokenizer.detokenizer() });
 * for await (const delta of stream) process.stdout.write(delta.text);
 * const { generatedIds } = await stream.result;
 * ```
 */
export function streamGeneration<TCache = unknown>(options: GenerateOptions<TCache>): GenerationStream<TCache> {
  // Stopping to read aborts the generation, so a linked controller feeds the loop.
  const controller = new AbortController();
  const outer = options.signal;
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  let resolveResult!: (value: GenerationResult<TCache>) => void;
  let rejectResult!: (error: unknown) => void;
  const result = new Promise<GenerationResult<TCache>>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  let loop: AsyncGenerator<GenerationDelta, GenerationResult<TCache>, void> | undefined;

  async function* deltas(): AsyncGenerator<GenerationDelta, void, void> {
    let settled = false;
    try {
      loop = createLoop(options, controller.signal);
      for (;;) {
        const next = await loop.next();
        if (next.done) {
          settled = true;
          resolveResult(next.value);
          return;
        }
        yield next.value;
      }
    } catch (error) {
      settled = true;
      rejectResult(error);
      throw error;
    } finally {
      outer?.removeEventListener('abort', forward);
      if (!settled && loop) {
        // The reader stopped early: abort, then let the loop finish (it releases the cache) and keep its result.
        controller.abort();
        try {
          for (;;) {
            const next = await loop.next();
            if (next.done) {
              resolveResult(next.value);
              break;
            }
          }
        } catch (error) {
          rejectResult(error);
        }
      }
    }
  }

  return singlePassStream(deltas(), result);
}
