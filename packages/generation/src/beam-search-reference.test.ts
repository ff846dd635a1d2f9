import { describe, expect, it } from 'vitest';
import { generate } from './generate.js';
import { MockLanguageModel, hashedLogits } from './testing/mock-language-model.js';

// transformers' `_beam_search` (v4.50+ / v5) restated here one batch row at a time, in float64, with plain arrays
// and sorts instead of the package's buffers: K = max(2, 1 + eos ids) x beams candidates per step, the best `beams`
// that did not stop keep running, the stopped ones among the first `beams` candidates join the finished hypotheses
// (score / newLength ** lengthPenalty) unless the row is full (earlyStopping true) or cannot improve, and the
// early-stop heuristic bounds the best running beam at the current length (false), at the maximum length ('never'
// with a positive penalty). The package must return the same hypotheses and scores on many random toy models.

const VERY_NEGATIVE = -1e9;

interface Options {
  beams: number;
  maxNew: number;
  eos: number[];
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  returned: number;
}

interface Hypothesis {
  tokens: number[];
  score: number;
  finished: boolean;
}

function logSoftmax(values: ArrayLike<number>): number[] {
  const array = Array.from(values);
  const maximum = Math.max(...array);
  const logSum = Math.log(array.reduce((sum, value) => sum + Math.exp(value - maximum), 0));
  return array.map((value) => value - maximum - logSum);
}

function referenceBeamSearch(
  logits: (context: readonly number[]) => ArrayLike<number>,
  prompt: number[],
  vocab: number,
  options: Options,
): Hypothesis[] {
  const { beams, maxNew, eos, lengthPenalty, earlyStopping } = options;
  const candidatesKept = Math.max(2, 1 + eos.length) * beams;
  let running: { tokens: number[]; score: number }[] = Array.from({ length: beams }, (_, beam) => ({
    tokens: [],
    score: beam === 0 ? 0 : VERY_NEGATIVE,
  }));
  let finished: Hypothesis[] = Array.from({ length: beams }, () => ({
    tokens: [],
    score: VERY_NEGATIVE,
    finished: false,
  }));
  let canImprove = true;
  for (let step = 0; step < maxNew; step++) {
    const all: { tokens: number[]; score: number; order: number }[] = [];
    running.forEach((beam, index) => {
      const logProbabilities = logSoftmax(logits([...prompt, ...beam.tokens]));
      for (let token = 0; token < vocab; token++)
        all.push({
          tokens: [...beam.tokens, token],
          score: beam.score + logProbabilities[token]!,
          order: index * vocab + token,
        });
    });
    all.sort((left, right) => right.score - left.score || left.order - right.order);
    const candidates = all.slice(0, candidatesKept);
    const stops = candidates.map(
      (candidate) => eos.includes(candidate.tokens.at(-1)!) || candidate.tokens.length === maxNew,
    );

    const rowFull = earlyStopping === true && finished.every((hypothesis) => hypothesis.finished);
    const newcomers: Hypothesis[] = [];
    if (!rowFull && canImprove) {
      candidates.forEach((candidate, rank) => {
        if (rank < beams && stops[rank])
          newcomers.push({
            tokens: candidate.tokens,
            score: candidate.score / (step + 1) ** lengthPenalty,
            finished: true,
          });
      });
    }
    // Stable sort: the hypotheses already kept come first on equal scores.
    finished = [...finished, ...newcomers].sort((left, right) => right.score - left.score).slice(0, beams);
    running = candidates.filter((_, rank) => !stops[rank]).slice(0, beams);

    if (stops.every(Boolean)) break;
    const length = earlyStopping === 'never' && lengthPenalty > 0 ? maxNew : step + 1;
    const bound = running[0]!.score / length ** lengthPenalty;
    const worst = Math.min(...finished.map((hypothesis) => hypothesis.score));
    if (!finished.some((hypothesis) => bound > (hypothesis.finished ? worst : VERY_NEGATIVE))) canImprove = false;
    if (!canImprove) break;
    if (earlyStopping === true && finished.every((hypothesis) => hypothesis.finished)) break;
  }
  return finished.slice(0, options.returned);
}

const VOCAB = 6;

async function compare(salt: number, prompts: number[][], options: Options): Promise<void> {
  // EOS is likelier than the rest (a bias of +1 on its logits), so hypotheses finish at every length.
  const base = hashedLogits(VOCAB, 2.5, salt);
  const logits = (context: readonly number[]) => {
    const values = base(context);
    for (const id of options.eos) values[id] = values[id]! + 1;
    return values;
  };
  const width = Math.max(...prompts.map((prompt) => prompt.length));
  const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
  const result = await generate({
    model,
    inputIds: prompts.map((prompt) => [...new Array<number>(width - prompt.length).fill(5), ...prompt]),
    attentionMask: prompts.map((prompt) => [
      ...new Array<number>(width - prompt.length).fill(0),
      ...prompt.map(() => 1),
    ]),
    numBeams: options.beams,
    numReturnSequences: options.returned,
    maxNewTokens: options.maxNew,
    eosTokenId: options.eos,
    padTokenId: 5,
    lengthPenalty: options.lengthPenalty,
    earlyStopping: options.earlyStopping,
  });
  expect(model.liveCaches).toBe(0);
  prompts.forEach((prompt, batch) => {
    const expected = referenceBeamSearch(logits, prompt, VOCAB, options);
    for (let index = 0; index < options.returned; index++) {
      const row = batch * options.returned + index;
      const label = `salt ${salt}, batch row ${batch}, hypothesis ${index}`;
      expect(result.generatedIds[row]!.slice(0, result.lengths[row]), label).toEqual(expected[index]!.tokens);
      expect(Math.abs(result.sequenceScores![row]! - expected[index]!.score), label).toBeLessThan(1e-4);
    }
  });
}

describe('beam search: the same hypotheses as a restatement of the reference', () => {
  const settings: [string, Omit<Options, 'maxNew'>][] = [
    ['2 beams, early stopping false', { beams: 2, eos: [2], lengthPenalty: 1, earlyStopping: false, returned: 2 }],
    [
      '3 beams, length penalty 0.5, early stopping false',
      { beams: 3, eos: [2], lengthPenalty: 0.5, earlyStopping: false, returned: 3 },
    ],
    ['3 beams, early stopping true', { beams: 3, eos: [2], lengthPenalty: 1, earlyStopping: true, returned: 2 }],
    [
      "3 beams, length penalty 2, early stopping 'never'",
      { beams: 3, eos: [2], lengthPenalty: 2, earlyStopping: 'never', returned: 3 },
    ],
    [
      "2 beams, length penalty -0.5, early stopping 'never'",
      { beams: 2, eos: [2], lengthPenalty: -0.5, earlyStopping: 'never', returned: 1 },
    ],
    ['4 beams, two EOS ids (K = 12)', { beams: 4, eos: [2, 4], lengthPenalty: 1, earlyStopping: false, returned: 4 }],
  ];
  it.each(settings)('%s', async (_name, options) => {
    for (const salt of [11, 12, 13, 14, 15, 16]) await compare(salt, [[1, 0, 3]], { ...options, maxNew: 7 });
  });

  it.each([false, true, 'never'] as const)(
    'treats each row of a left-padded batch on its own (early stopping %s)',
    async (earlyStopping) => {
      for (const salt of [21, 22, 23, 24, 25, 26]) {
        await compare(salt, [[1, 3], [0, 1, 1, 3], [3]], {
          beams: 3,
          eos: [2],
          lengthPenalty: 1,
          earlyStopping,
          returned: 2,
          maxNew: 6,
        });
      }
    },
  );
});
