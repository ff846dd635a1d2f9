import { VideoLlavaError } from '@video-llava/core';
import type { LanguageModelOutput } from './causal-language-model.js';
import { logSoftmaxInto, softmaxInto } from './float32-softmax.js';
import type { FinishReason, GenerationDelta, GenerationResult } from './generation-result.js';
import { applyLogitsProcessors } from './logits-processors/logits-processor.js';
import { type LoopSetup, checkStopping, stepEvent } from './loop-setup.js';
import { ABORTED, callModel, checkLogits, prefillExpanded, stepTensors } from './model-calls.js';
import type { RandomGenerator } from './philox-random.js';
import { selectTopIndices } from './top-k.js';

// transformers marks impossible candidates by adding -1e9 in float32 (exactly representable).
const VERY_NEGATIVE = -1e9;

/** One finished hypothesis slot (transformers' `sequences` / `beam_scores` / `is_sent_finished` entry). */
interface FinishedSlot {
  sequence: Int32Array;
  score: number;
  generated: number;
  finished: boolean;
  reason: FinishReason;
}

// K candidates drawn without replacement from softmax(values), in draw order (the distribution of
// `torch.multinomial(..., replacement=False)`). When fewer than K values have a positive probability, the rest are
// the best remaining values, so that a beam can always continue.
function drawWithoutReplacement(values: Float32Array, count: number, random: RandomGenerator): Int32Array {
  const probabilities = new Float32Array(values.length);
  softmaxInto(values, probabilities);
  let total = 0;
  for (let index = 0; index < probabilities.length; index++) total += probabilities[index]! || 0;
  const taken = new Uint8Array(values.length);
  const drawn = new Int32Array(count);
  for (let draw = 0; draw < count; draw++) {
    const target = random.nextFloat() * total;
    let chosen = -1;
    let cumulative = 0;
    for (let index = 0; index < probabilities.length; index++) {
      const probability = probabilities[index]!;
      if (taken[index] || !(probability > 0)) continue;
      cumulative += probability;
      chosen = index;
      if (cumulative > target) break;
    }
    if (chosen < 0 || !(total > 0)) {
      let bestValue = -Infinity;
      for (let index = 0; index < values.length; index++) {
        if (!taken[index] && (chosen < 0 || values[index]! > bestValue)) {
          chosen = index;
          bestValue = values[index]!;
        }
      }
    }
    taken[chosen] = 1;
    total -= probabilities[chosen]! || 0;
    drawn[draw] = chosen;
  }
  return drawn;
}

/**
 * Beam search (and beam sampling) as transformers' vectorized `_beam_search` (v4.50+ / v5): per batch row it keeps
 * `numBeams` running beams and `numBeams` finished hypotheses. Each step: float32 log-softmax of the logits, the
 * logits processors on those log-probabilities, add each beam's running score, take the top
 * `K = max(2, 1 + eos ids) * numBeams` candidates over all beams (or draw them when sampling), check the stopping
 * criteria on each, keep the best `numBeams` candidates that did not stop as the next running beams (reordering
 * the cache), and merge the candidates among the first `numBeams` that did stop into the finished hypotheses with
 * their score divided by `newLength ** lengthPenalty`. It ends when no batch row can improve (the early-stopping
 * heuristic), when every hypothesis is finished with `earlyStopping: true`, or when every candidate stopped (max
 * length). All score arithmetic rounds to float32 where PyTorch does, -1e9 markers included.
 *
 * @internal used by `generate`
 */
export async function* beamSearchLoop<TCache>(
  setup: LoopSetup<TCache>,
): AsyncGenerator<GenerationDelta, GenerationResult<TCache>, void> {
  const { model, settings, prompt, signal } = setup;
  if (!model.selectCacheRows) {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      'Beam search needs a model that can reorder its cache (selectCacheRows), and this one cannot.',
      {
        field: 'model.selectCacheRows',
        expected: 'a function',
        actual: undefined,
      },
    );
  }
  const vocabSize = model.vocabSize;
  const beams = settings.numBeams;
  const batchSize = prompt.ids.length;
  const rowCount = batchSize * beams;
  const promptLength = prompt.length;
  const maxLength = settings.maxLength;
  const eos = settings.eosTokenIds;
  const candidateCount = Math.max(2, 1 + eos.length) * beams;
  // `pad_token_id or eos_token_id[0] if eos_token_id is not None else -1` (a pad id of 0 counts as unset).
  const fillValue = eos.length > 0 ? settings.padTokenId || eos[0]! : -1;
  const lengthPenalty = settings.lengthPenalty;
  const earlyStopping = settings.earlyStopping;
  const penaltyDivisor = (length: number) => Math.fround(length ** lengthPenalty);

  const promptMasks = Array.from({ length: rowCount }, (_, row) => prompt.mask[Math.floor(row / beams)]!);
  let running: Int32Array[] = Array.from({ length: rowCount }, (_, row) => {
    const buffer = new Int32Array(maxLength).fill(fillValue);
    buffer.set(prompt.ids[Math.floor(row / beams)]!);
    return buffer;
  });
  let runningScores = new Float32Array(rowCount);
  for (let row = 0; row < rowCount; row++) runningScores[row] = row % beams === 0 ? 0 : VERY_NEGATIVE;
  const finished: FinishedSlot[] = running.map((sequence) => ({
    sequence,
    score: VERY_NEGATIVE,
    generated: 0,
    finished: false,
    reason: 'length',
  }));
  const unsatisfied = new Uint8Array(batchSize).fill(1);
  let currentLength = promptLength;
  let cache: TCache | undefined;
  let aborted = false;

  try {
    setup.onProgress?.({ stage: 'prefill', done: 0, total: batchSize * promptLength, unit: 'tokens' });
    const prefilled = signal?.aborted ? ABORTED : await prefillExpanded(model, prompt, beams, signal);
    if (prefilled === ABORTED) aborted = true;
    else {
      cache = prefilled.cache;
      let logits = prefilled.logits;
      setup.onProgress?.({
        stage: 'prefill',
        done: batchSize * promptLength,
        total: batchSize * promptLength,
        unit: 'tokens',
      });
      const logProbabilities = new Float32Array(rowCount * vocabSize);
      const accumulated = new Float32Array(beams * vocabSize);
      for (let step = 0; ; step++) {
        for (let row = 0; row < rowCount; row++) {
          logSoftmaxInto(
            logits.subarray(row * vocabSize, (row + 1) * vocabSize),
            logProbabilities.subarray(row * vocabSize, (row + 1) * vocabSize),
          );
        }
        applyLogitsProcessors(
          setup.processors,
          running.map((sequence) => sequence.subarray(0, currentLength)),
          logProbabilities,
        );
        if (setup.onStep) await setup.onStep(stepEvent(step, rowCount, vocabSize, logits, logProbabilities));

        const nextRunning: Int32Array[] = new Array(rowCount);
        const nextScores = new Float32Array(rowCount);
        const sourceRows = new Int32Array(rowCount);
        let everyCandidateStopped = true;
        const newLength = currentLength + 1 - promptLength;
        for (let batch = 0; batch < batchSize; batch++) {
          const firstRow = batch * beams;
          for (let beam = 0; beam < beams; beam++) {
            const row = firstRow + beam;
            const offset = row * vocabSize;
            const score = runningScores[row]!;
            for (let token = 0; token < vocabSize; token++)
              accumulated[beam * vocabSize + token] = logProbabilities[offset + token]! + score;
          }
          const picked = settings.doSample
            ? drawWithoutReplacement(accumulated, candidateCount, setup.random!)
            : selectTopIndices(accumulated, 0, beams * vocabSize, candidateCount);
          const candidateScores = Float32Array.from(picked, (index) => accumulated[index]!);
          const candidates = Array.from(picked, (index) => {
            const sequence = running[firstRow + Math.floor(index / vocabSize)]!.slice();
            sequence[currentLength] = index % vocabSize;
            return sequence;
          });
          const stopped = checkStopping(
            setup.criteria,
            candidates.map((sequence) => sequence.subarray(0, currentLength + 1)),
          );

          // Next running beams: the best candidates, those that stopped pushed down by -1e9.
          const runningCandidateScores = Float32Array.from(candidateScores, (value, index) =>
            stopped[index] === undefined ? value : value + VERY_NEGATIVE,
          );
          const keptRunning = selectTopIndices(runningCandidateScores, 0, candidates.length, beams);
          for (let beam = 0; beam < beams; beam++) {
            const candidate = keptRunning[beam]!;
            nextRunning[firstRow + beam] = candidates[candidate]!;
            nextScores[firstRow + beam] = runningCandidateScores[candidate]!;
            sourceRows[firstRow + beam] = firstRow + Math.floor(picked[candidate]! / vocabSize);
          }

          // Finished hypotheses: merge the top-`beams` candidates that stopped, length-penalized.
          const slots = finished.slice(firstRow, firstRow + beams);
          const batchFull = earlyStopping === true && slots.every((slot) => slot.finished);
          const divisor = penaltyDivisor(newLength);
          const finishedCandidateScores = new Float32Array(candidates.length);
          for (let candidate = 0; candidate < candidates.length; candidate++) {
            let value = Math.fround(candidateScores[candidate]! / divisor);
            if (batchFull) value = Math.fround(value + VERY_NEGATIVE);
            if (!unsatisfied[batch]) value = Math.fround(value + VERY_NEGATIVE);
            const justFinished = stopped[candidate] !== undefined && candidate < beams;
            if (!justFinished) value = Math.fround(value + VERY_NEGATIVE);
            finishedCandidateScores[candidate] = value;
            if (stopped[candidate] === undefined) everyCandidateStopped = false;
          }
          const merged = new Float32Array(beams + candidates.length);
          slots.forEach((slot, index) => (merged[index] = slot.score));
          merged.set(finishedCandidateScores, beams);
          const keptFinished = selectTopIndices(merged, 0, merged.length, beams);
          for (let slot = 0; slot < beams; slot++) {
            const source = keptFinished[slot]!;
            if (source < beams) finished[firstRow + slot] = slots[source]!;
            else {
              const candidate = source - beams;
              finished[firstRow + slot] = {
                sequence: candidates[candidate]!,
                score: finishedCandidateScores[candidate]!,
                generated: newLength,
                finished: stopped[candidate] !== undefined && candidate < beams,
                reason: stopped[candidate] ?? 'length',
              };
            }
          }
        }
        running = nextRunning;
        runningScores = nextScores;
        currentLength++;
        setup.onProgress?.({ stage: 'decode', done: step + 1, total: maxLength - promptLength, unit: 'tokens' });

        // The early-stopping heuristic: can the best running beam still beat the worst finished hypothesis?
        for (let batch = 0; batch < batchSize; batch++) {
          const firstRow = batch * beams;
          const hypotheticalLength =
            earlyStopping === 'never' && lengthPenalty > 0 ? maxLength - promptLength : currentLength - promptLength;
          const bestPossible = Math.fround(runningScores[firstRow]! / penaltyDivisor(hypotheticalLength));
          const slots = finished.slice(firstRow, firstRow + beams);
          const worstFinished = Math.min(...slots.map((slot) => slot.score));
          const canImprove = slots.some((slot) => bestPossible > (slot.finished ? worstFinished : VERY_NEGATIVE));
          if (!canImprove) unsatisfied[batch] = 0;
        }
        const improvementPossible = unsatisfied.some((flag) => flag === 1);
        const allFinished = earlyStopping === true && finished.every((slot) => slot.finished);
        if (!improvementPossible || allFinished || everyCandidateStopped) break;
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        const reorderedFrom: TCache = cache!;
        cache = undefined;
        const reordered: TCache | typeof ABORTED = await callModel(
          'selectCacheRows',
          signal,
          (): Promise<TCache> => model.selectCacheRows!(reorderedFrom, sourceRows, signal),
        );
        if (reordered === ABORTED) {
          aborted = true;
          break;
        }
        const currentCache: TCache = reordered;
        const output: LanguageModelOutput<TCache> | typeof ABORTED = await callModel('forward', signal, () =>
          model.forward({ ...stepTensors(running, promptMasks, currentLength), cache: currentCache, signal }),
        );
        if (output === ABORTED) {
          aborted = true;
          break;
        }
        cache = output.cache;
        logits = checkLogits(output.logits, rowCount, vocabSize, 'forward');
      }
    }
    if (aborted && currentLength > promptLength) {
      // Stop here as if the running beams had reached their end: they compete with the finished hypotheses.
      const divisor = penaltyDivisor(currentLength - promptLength);
      for (let batch = 0; batch < batchSize; batch++) {
        const firstRow = batch * beams;
        const pool: FinishedSlot[] = [
          ...finished.slice(firstRow, firstRow + beams),
          ...running.slice(firstRow, firstRow + beams).map((sequence, beam) => ({
            sequence,
            score: Math.fround(runningScores[firstRow + beam]! / divisor),
            generated: currentLength - promptLength,
            finished: true,
            reason: 'abort' as const,
          })),
        ];
        const kept = selectTopIndices(
          Float32Array.from(pool, (slot) => slot.score),
          0,
          pool.length,
          beams,
        );
        for (let slot = 0; slot < beams; slot++) finished[firstRow + slot] = pool[kept[slot]!]!;
      }
    }

    const returned: FinishedSlot[] = [];
    for (let batch = 0; batch < batchSize; batch++)
      returned.push(...finished.slice(batch * beams, batch * beams + settings.numReturnSequences));
    const outputLength = Math.max(0, ...returned.map((slot) => slot.generated));
    const result: GenerationResult<TCache> = {
      generatedIds: returned.map((slot) =>
        Array.from(slot.sequence.subarray(promptLength, promptLength + outputLength)),
      ),
      lengths: returned.map((slot) => slot.generated),
      finishReasons: returned.map((slot) => (aborted && slot.generated === 0 ? 'abort' : slot.reason)),
      texts: undefined,
      sequenceScores: returned.map((slot) => slot.score),
      promptLength,
      seed: setup.seed,
    };
    // The best beams are known only now: stream them whole.
    const texts: string[] = [];
    for (const [index, slot] of returned.entries()) {
      const detokenizer = setup.createDetokenizer?.(index);
      let text = '';
      for (let step = 0; step < slot.generated; step++) {
        const tokenId = slot.sequence[promptLength + step]!;
        let delta = detokenizer ? detokenizer.push(tokenId) : '';
        const last = step === slot.generated - 1;
        if (last && detokenizer) delta += detokenizer.flush();
        text += delta;
        yield {
          sequence: index,
          step,
          tokenId,
          text: delta,
          finishReason: last ? result.finishReasons[index] : undefined,
        };
      }
      if (slot.generated === 0)
        yield { sequence: index, step: 0, tokenId: undefined, text: '', finishReason: result.finishReasons[index] };
      texts.push(text);
    }
    if (setup.createDetokenizer) result.texts = texts;
    return result;
  } finally {
    if (cache !== undefined) await model.releaseCache?.(cache);
  }
}
