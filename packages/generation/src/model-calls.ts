import { Tensor, VideoLlavaError } from '@video-llava/core';
import type { CausalLanguageModel, LanguageModelInput, LanguageModelOutput } from './causal-language-model.js';
import { type PromptBatch, int64Tensor, positionIdsFromMask } from './prompt-batch.js';

/** Returned instead of a model output when the call failed because the generation was aborted. */
export const ABORTED = Symbol('aborted');

/** Runs a model call; a rejection caused by the abort becomes {@link ABORTED}, anything else a VideoLlavaError. */
export async function callModel<T>(
  what: string,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T | typeof ABORTED> {
  try {
    return await call();
  } catch (error) {
    if (signal?.aborted) return ABORTED;
    if (VideoLlavaError.isInstance(error)) throw error;
    throw new VideoLlavaError(
      'RUNTIME_ERROR',
      `The language model failed in ${what}: ${error instanceof Error ? error.message : String(error)}`,
      {
        field: what,
        cause: error,
      },
    );
  }
}

/** Checks a model output: `rows * vocabSize` finite-or-infinite (never NaN) float32 logits. */
export function checkLogits(logits: unknown, rows: number, vocabSize: number, what: string): Float32Array {
  if (!(logits instanceof Float32Array) || logits.length !== rows * vocabSize) {
    const found =
      logits instanceof Float32Array
        ? `${logits.length} values`
        : String((logits as object | undefined)?.constructor?.name ?? logits);
    throw new VideoLlavaError(
      'SHAPE_MISMATCH',
      `The language model's ${what} must return float32 logits of the last position, [${rows}, ${vocabSize}] = ${rows * vocabSize} values; found ${found}.`,
      {
        field: `${what}.logits`,
        expected: `Float32Array(${rows * vocabSize})`,
        actual: found,
      },
    );
  }
  for (let index = 0; index < logits.length; index++) {
    if (Number.isNaN(logits[index]!)) {
      const row = Math.floor(index / vocabSize);
      throw new VideoLlavaError(
        'RUNTIME_ERROR',
        `The language model's ${what} returned NaN logits (row ${row}, token ${index % vocabSize}).`,
        {
          field: `${what}.logits`,
          expected: 'numbers (no NaN)',
          actual: NaN,
        },
      );
    }
  }
  return logits;
}

/** The rows of a batch expanded `times` times each (transformers' `repeat_interleave`): `[0, 0, 1, 1]` for 2 x 2. */
export function expansionIndices(batchSize: number, times: number): Int32Array {
  const indices = new Int32Array(batchSize * times);
  for (let row = 0; row < indices.length; row++) indices[row] = Math.floor(row / times);
  return indices;
}

/**
 * Prefills the prompt and returns logits and cache for `batch * expand` rows: with `selectCacheRows`, the prompt
 * runs once per batch row and the cache is expanded; without it, the expanded prompt runs.
 */
export async function prefillExpanded<TCache>(
  model: CausalLanguageModel<TCache>,
  prompt: PromptBatch,
  expand: number,
  signal: AbortSignal | undefined,
): Promise<LanguageModelOutput<TCache> | typeof ABORTED> {
  const vocabSize = model.vocabSize;
  const batchSize = prompt.ids.length;
  const expandFirst = expand > 1 && !model.selectCacheRows;
  const rowIndices = expandFirst ? expansionIndices(batchSize, expand) : expansionIndices(batchSize, 1);
  const ids = Array.from(rowIndices, (row) => prompt.ids[row]!);
  const masks = Array.from(rowIndices, (row) => prompt.mask[row]!);
  const output = await callModel('prefill', signal, () =>
    model.prefill({
      inputIds: int64Tensor(ids, prompt.length),
      attentionMask: int64Tensor(masks, prompt.length),
      positionIds: int64Tensor(masks.map(positionIdsFromMask), prompt.length),
      signal,
    }),
  );
  if (output === ABORTED) return ABORTED;
  let logits: Float32Array;
  try {
    logits = checkLogits(output.logits, ids.length, vocabSize, 'prefill');
  } catch (error) {
    await model.releaseCache?.(output.cache);
    throw error;
  }
  if (expand === 1 || expandFirst) return { logits, cache: output.cache };
  const indices = expansionIndices(batchSize, expand);
  const cache = await callModel('selectCacheRows', signal, () => model.selectCacheRows!(output.cache, indices, signal));
  if (cache === ABORTED) return ABORTED;
  const expanded = new Float32Array(indices.length * vocabSize);
  for (let row = 0; row < indices.length; row++)
    expanded.set(logits.subarray(indices[row]! * vocabSize, (indices[row]! + 1) * vocabSize), row * vocabSize);
  return { logits: expanded, cache };
}

/**
 * The inputs of one decoding step: each row's newest token, the attention mask (prompt mask, then ones for every
 * new position) and the position of the new token.
 */
export function stepTensors(
  sequences: readonly Int32Array[],
  promptMasks: readonly Uint8Array[],
  currentLength: number,
): Omit<LanguageModelInput, 'signal'> {
  const rows = sequences.length;
  const promptLength = promptMasks[0]!.length;
  const ids = new BigInt64Array(rows);
  const mask = new BigInt64Array(rows * currentLength);
  const positions = new BigInt64Array(rows);
  mask.fill(1n);
  for (let row = 0; row < rows; row++) {
    ids[row] = BigInt(sequences[row]![currentLength - 1]!);
    const promptMask = promptMasks[row]!;
    let real = currentLength - promptLength;
    for (let position = 0; position < promptLength; position++) {
      if (promptMask[position] === 0) mask[row * currentLength + position] = 0n;
      else real++;
    }
    positions[row] = BigInt(real - 1);
  }
  return {
    inputIds: new Tensor('int64', ids, [rows, 1]),
    attentionMask: new Tensor('int64', mask, [rows, currentLength]),
    positionIds: new Tensor('int64', positions, [rows, 1]),
  };
}
