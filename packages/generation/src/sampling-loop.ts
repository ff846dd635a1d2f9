import { VideoLlavaError } from '@video-llava/core';
import type { LanguageModelOutput } from './causal-language-model.js';
import type { FinishReason, GenerationDelta, GenerationResult } from './generation-result.js';
import type { IncrementalDetokenizer } from './incremental-detokenizer.js';
import { applyLogitsProcessors } from './logits-processors/logits-processor.js';
import { type LoopSetup, checkStopping, stepEvent } from './loop-setup.js';
import { ABORTED, callModel, checkLogits, prefillExpanded, stepTensors } from './model-calls.js';
import { argmax, sampleToken } from './token-selection.js';

/**
 * Greedy search and multinomial sampling, as transformers' `_sample`: rows are the batch expanded by
 * `numReturnSequences`; each step processes the scores, picks a token per row (argmax, or a draw from the softmax),
 * writes the pad id instead for rows already finished (when there is an EOS criterion), appends, and checks the
 * stopping criteria. The model is not run after the last token. Yields one delta per unfinished row and step.
 *
 * @internal used by `generate` and `streamGeneration`
 */
export async function* samplingLoop<TCache>(
  setup: LoopSetup<TCache>,
): AsyncGenerator<GenerationDelta, GenerationResult<TCache>, void> {
  const { model, settings, prompt, signal } = setup;
  const vocabSize = model.vocabSize;
  const expand = settings.numReturnSequences;
  const rowCount = prompt.ids.length * expand;
  const promptLength = prompt.length;
  const sequences = Array.from({ length: rowCount }, (_, row) => {
    const buffer = new Int32Array(settings.maxLength);
    buffer.set(prompt.ids[Math.floor(row / expand)]!);
    return buffer;
  });
  const promptMasks = Array.from({ length: rowCount }, (_, row) => prompt.mask[Math.floor(row / expand)]!);
  const finishReasons: (FinishReason | undefined)[] = new Array(rowCount).fill(undefined);
  const lengths = new Array<number>(rowCount).fill(0);
  const detokenizers: (IncrementalDetokenizer | undefined)[] = Array.from({ length: rowCount }, (_, row) =>
    setup.createDetokenizer?.(row),
  );
  const texts = detokenizers.map(() => '');
  const hasEosCriterion = settings.eosTokenIds.length > 0;
  const padTokenId = settings.padTokenId ?? 0;
  const random = setup.random;
  const probabilities = new Float32Array(vocabSize);
  let currentLength = promptLength;
  let cache: TCache | undefined;
  let keep = false;
  let aborted = false;

  try {
    setup.onProgress?.({ stage: 'prefill', done: 0, total: prompt.ids.length * promptLength, unit: 'tokens' });
    const prefilled = signal?.aborted ? ABORTED : await prefillExpanded(model, prompt, expand, signal);
    if (prefilled === ABORTED) aborted = true;
    else {
      cache = prefilled.cache;
      let logits = prefilled.logits;
      setup.onProgress?.({
        stage: 'prefill',
        done: prompt.ids.length * promptLength,
        total: prompt.ids.length * promptLength,
        unit: 'tokens',
      });
      for (let step = 0; ; step++) {
        const views = sequences.map((sequence) => sequence.subarray(0, currentLength));
        const scores = new Float32Array(logits);
        applyLogitsProcessors(setup.processors, views, scores);
        if (setup.onStep) await setup.onStep(stepEvent(step, rowCount, vocabSize, logits, scores));
        const tokens = new Int32Array(rowCount);
        for (let row = 0; row < rowCount; row++) {
          const rowScores = scores.subarray(row * vocabSize, (row + 1) * vocabSize);
          let token: number;
          if (settings.doSample) {
            // A draw for every row, finished or not, so that a row's stream never depends on the others.
            token = sampleToken(rowScores, probabilities, random!);
            if (token < 0 && finishReasons[row] === undefined) {
              throw new VideoLlavaError(
                'RUNTIME_ERROR',
                `Every token of row ${row} was filtered out at step ${step}: no probability is left to sample from.`,
                {
                  field: 'scores',
                  expected: 'at least one finite score per row',
                  actual: 'all -Infinity',
                },
              );
            }
          } else token = argmax(rowScores);
          if (hasEosCriterion && finishReasons[row] !== undefined) token = padTokenId;
          tokens[row] = token;
        }
        for (let row = 0; row < rowCount; row++) sequences[row]![currentLength] = tokens[row]!;
        currentLength++;
        const stopped = checkStopping(
          setup.criteria,
          sequences.map((sequence) => sequence.subarray(0, currentLength)),
        );
        let unfinished = 0;
        for (let row = 0; row < rowCount; row++) {
          if (finishReasons[row] !== undefined) continue;
          lengths[row]!++;
          const reason = stopped[row];
          if (reason !== undefined) finishReasons[row] = reason;
          else unfinished++;
          const detokenizer = detokenizers[row];
          let text = detokenizer ? detokenizer.push(tokens[row]!) : '';
          if (detokenizer && reason !== undefined) text += detokenizer.flush();
          texts[row] += text;
          yield { sequence: row, step, tokenId: tokens[row]!, text, finishReason: reason };
        }
        setup.onProgress?.({
          stage: 'decode',
          done: step + 1,
          total: settings.maxLength - promptLength,
          unit: 'tokens',
        });
        if (unfinished === 0) break;
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        const inputs = stepTensors(sequences, promptMasks, currentLength);
        const currentCache: TCache = cache!;
        cache = undefined;
        const output: LanguageModelOutput<TCache> | typeof ABORTED = await callModel('forward', signal, () =>
          model.forward({ ...inputs, cache: currentCache, signal }),
        );
        if (output === ABORTED) {
          aborted = true;
          break;
        }
        cache = output.cache;
        logits = checkLogits(output.logits, rowCount, vocabSize, 'forward');
      }
    }
    if (aborted) {
      for (let row = 0; row < rowCount; row++) {
        if (finishReasons[row] !== undefined) continue;
        finishReasons[row] = 'abort';
        const pending = detokenizers[row]?.flush() ?? '';
        texts[row] += pending;
        // A closing delta (no token) tells a streaming reader why the row ended and hands over pending text.
        yield { sequence: row, step: lengths[row]!, tokenId: undefined, text: pending, finishReason: 'abort' };
      }
    }
    keep = setup.keepCache && cache !== undefined;
    const generated = currentLength - promptLength;
    return {
      generatedIds: sequences.map((sequence) => Array.from(sequence.subarray(promptLength, currentLength))),
      lengths: lengths.slice(0, rowCount).map((length) => Math.min(length, generated)),
      finishReasons: finishReasons.map((reason) => reason ?? 'length'),
      texts: setup.createDetokenizer ? texts : undefined,
      promptLength,
      seed: setup.seed,
      cache: keep ? cache : undefined,
      cacheLength: keep ? currentLength - 1 : undefined,
    };
  } finally {
    if (!keep && cache !== undefined) await model.releaseCache?.(cache);
  }
}
