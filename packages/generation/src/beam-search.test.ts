import { describe, expect, it } from 'vitest';
import { generate } from './generate.js';
import { MockLanguageModel, hashedLogits } from './testing/mock-language-model.js';

// ---- an exhaustive reference ------------------------------------------------------------------------------------
//
// On a vocabulary of two words (0, 1) and EOS (2), with maxNewTokens 4, every hypothesis beam search can return is a
// sequence of 1-4 new tokens whose last token is EOS or whose length is 4 (EOS only ever last). With 12 beams the
// search is exhaustive: the K = 2 x 12 = 24 candidates of a step hold every continuation of the at most 8 live
// prefixes (8 x 3 = 24), and with `earlyStopping: 'never'` the stopping bound is admissible (no continuation can
// beat it). So its 12 finished hypotheses must be the 12 best of all hypotheses, ranked by
// sum(log-softmax) / length ** lengthPenalty -- which this test enumerates in float64.

const EOS = 2;
const VOCAB = 3;
const MAX_NEW = 4;
const BEAMS = 12;

/** log-softmax in float64, written out here. */
function logSoftmax(values: ArrayLike<number>): number[] {
  const array = Array.from(values);
  const maximum = Math.max(...array);
  const logSum = Math.log(array.reduce((sum, value) => sum + Math.exp(value - maximum), 0));
  return array.map((value) => value - maximum - logSum);
}

interface Hypothesis {
  tokens: number[];
  score: number;
}

/** Every hypothesis with its score; `transform` adjusts a step's log-probabilities (processors), `allowed` filters. */
function enumerate(
  logits: (context: readonly number[]) => ArrayLike<number>,
  prompt: number[],
  lengthPenalty: number,
  transform: (context: number[], logProbabilities: number[]) => void = () => undefined,
): Hypothesis[] {
  const results: Hypothesis[] = [];
  const walk = (tokens: number[], sum: number) => {
    const context = [...prompt, ...tokens];
    const logProbabilities = logSoftmax(logits(context));
    transform(context, logProbabilities);
    for (let token = 0; token < VOCAB; token++) {
      const total = sum + logProbabilities[token]!;
      if (total === -Infinity) continue;
      const next = [...tokens, token];
      if (token === EOS || next.length === MAX_NEW)
        results.push({ tokens: next, score: total / next.length ** lengthPenalty });
      else walk(next, total);
    }
  };
  walk([], 0);
  return results.sort((left, right) => right.score - left.score);
}

async function beamSearch(
  logits: (context: readonly number[]) => ArrayLike<number>,
  prompts: number[][],
  options: Record<string, unknown>,
) {
  const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
  const width = Math.max(...prompts.map((prompt) => prompt.length));
  const padded = prompts.map((prompt) => [...new Array<number>(width - prompt.length).fill(0), ...prompt]);
  const attentionMask = prompts.map((prompt) => [
    ...new Array<number>(width - prompt.length).fill(0),
    ...prompt.map(() => 1),
  ]);
  const result = await generate({
    model,
    inputIds: padded,
    attentionMask,
    maxNewTokens: MAX_NEW,
    eosTokenId: EOS,
    padTokenId: 0,
    numBeams: BEAMS,
    numReturnSequences: BEAMS,
    earlyStopping: 'never',
    ...options,
  });
  expect(model.liveCaches).toBe(0);
  return { result, model };
}

function expectSameAsEnumeration(
  result: Awaited<ReturnType<typeof beamSearch>>['result'],
  expected: Hypothesis[][],
): void {
  expected.forEach((hypotheses, batch) => {
    const top = hypotheses.slice(0, BEAMS);
    const rows = result.generatedIds.slice(batch * BEAMS, (batch + 1) * BEAMS);
    const lengths = result.lengths.slice(batch * BEAMS, (batch + 1) * BEAMS);
    expect(rows.map((row, index) => row.slice(0, lengths[index]))).toEqual(top.map((hypothesis) => hypothesis.tokens));
    result
      .sequenceScores!.slice(batch * BEAMS, (batch + 1) * BEAMS)
      .forEach((score, index) => expect(score).toBeCloseTo(top[index]!.score, 5));
  });
}

describe('beam search: exhaustive on a toy model', () => {
  it.each([1, 0.5, 2, 0, -1])('returns the best hypotheses of all, length penalty %s', async (lengthPenalty) => {
    for (const salt of [1, 2, 3]) {
      const logits = hashedLogits(VOCAB, 2.5, salt);
      const { result } = await beamSearch(logits, [[1, 0, 1]], { lengthPenalty });
      expectSameAsEnumeration(result, [enumerate(logits, [1, 0, 1], lengthPenalty)]);
    }
  });

  it('handles a left-padded batch, each row on its own', async () => {
    const logits = hashedLogits(VOCAB, 2.5, 9);
    const { result } = await beamSearch(
      logits,
      [
        [1, 1],
        [0, 1, 0, 0],
      ],
      { lengthPenalty: 1 },
    );
    expectSameAsEnumeration(result, [enumerate(logits, [1, 1], 1), enumerate(logits, [0, 1, 0, 0], 1)]);
    // Padding: every returned row has the same length; shorter hypotheses continue with the fill value, which is
    // `pad_token_id or eos_token_id[0]` in transformers: the pad id here is 0, falsy in Python, so EOS.
    const width = result.generatedIds[0]!.length;
    expect(width).toBe(MAX_NEW);
    expect(result.generatedIds.every((row) => row.length === width)).toBe(true);
    expect(result.lengths.some((length) => length < width)).toBe(true);
    result.generatedIds.forEach((row, index) =>
      expect(row.slice(result.lengths[index])).toEqual(new Array(width - result.lengths[index]!).fill(EOS)),
    );
  });

  it('never repeats an n-gram inside a beam (prompt included)', async () => {
    const logits = hashedLogits(VOCAB, 2.5, 4);
    const prompt = [0, 1, 1];
    const { result } = await beamSearch(logits, [prompt], { noRepeatNgramSize: 2 });
    const banned = (context: number[], logProbabilities: number[]) => {
      const last = context[context.length - 1];
      for (let index = 0; index + 1 < context.length; index++)
        if (context[index] === last) logProbabilities[context[index + 1]!] = -Infinity;
    };
    const expected = enumerate(logits, prompt, 1, banned);
    // Fewer than 12 hypotheses survive the ban; the rest of the returned slots are -1e9 placeholders.
    const real = Math.min(expected.length, BEAMS);
    const rows = result.generatedIds.slice(0, real).map((row, index) => row.slice(0, result.lengths[index]));
    expect(rows).toEqual(expected.slice(0, real).map((hypothesis) => hypothesis.tokens));
    for (const row of rows) {
      const all = [...prompt, ...row];
      const bigrams = all.slice(1).map((token, index) => `${all[index]},${token}`);
      expect(new Set(bigrams).size).toBe(bigrams.length);
    }
  });

  it('applies the repetition penalty to the log-probabilities (multiplying them, all negative)', async () => {
    const logits = hashedLogits(VOCAB, 2.5, 5);
    const prompt = [1, 0];
    const { result } = await beamSearch(logits, [prompt], { repetitionPenalty: 1.5 });
    const penalize = (context: number[], logProbabilities: number[]) => {
      for (const token of new Set(context)) logProbabilities[token]! *= 1.5;
    };
    expectSameAsEnumeration(result, [enumerate(logits, prompt, 1, penalize)]);
  });
});

// ---- early stopping, on scripted models ------------------------------------------------------------------------

// Tokens: A = 0, B = 1, EOS = 2, and PAD = 3, which the scripts never produce (logit -Infinity). A script gives the
// next-token probabilities of A, B and EOS after the new tokens so far; the prompt is [B] (no pad id in it, so the
// inferred attention mask is all ones).
const A = 0;
const B = 1;
const PAD = 3;

function scripted(script: Record<string, [number, number, number]>, fallback: [number, number, number]) {
  return (context: readonly number[]) => {
    const key = context
      .slice(1)
      .map((token) => 'AB!'[token])
      .join('');
    return Float32Array.from([...(script[key] ?? fallback), 0], (probability, token) =>
      token === PAD ? -Infinity : Math.log(probability),
    );
  };
}

const run = (
  logits: (context: readonly number[]) => ArrayLike<number>,
  earlyStopping: boolean | 'never',
  extra: Record<string, unknown> = {},
) =>
  generate({
    model: new MockLanguageModel({ vocabSize: 4, logits }),
    inputIds: [[B]],
    numBeams: 2,
    numReturnSequences: 2,
    maxNewTokens: 6,
    eosTokenId: EOS,
    padTokenId: PAD,
    earlyStopping,
    ...extra,
  });

const realTokens = (result: Awaited<ReturnType<typeof run>>) =>
  result.generatedIds.map((row, index) => row.slice(0, result.lengths[index]));

describe('beam search: early stopping', () => {
  // Two beams, K = 4 candidates, length penalty 1. After the prompt: EOS 0.5, A 0.4, B 0.1 -> "!" finishes with
  // ln 0.5 = -0.693; running: A (-0.916), B (-2.303). After "A": EOS 0.4, A 0.5 -> "A!" = (-0.916 - 0.916) / 2
  // = -0.916 finishes (rank 1 < 2 beams): both hypothesis slots are full. Running best: "AA" = -1.609.
  // After "AA", A is almost certain (0.98): "AAAAAA" = (-1.609 + 4 ln 0.98) / 6 = -0.282 beats everything.
  // Every other context (the B branch) says EOS 0.96, so whatever starts with B finishes early and scores badly.
  const first = scripted(
    {
      '': [0.4, 0.1, 0.5],
      A: [0.5, 0.1, 0.4],
      AA: [0.98, 0.01, 0.01],
      AAA: [0.98, 0.01, 0.01],
      AAAA: [0.98, 0.01, 0.01],
      AAAAA: [0.98, 0.01, 0.01],
    },
    [0.02, 0.02, 0.96],
  );
  const aaaaaa = (Math.log(0.4) + Math.log(0.5) + 4 * Math.log(0.98)) / 6;

  it('true: stops as soon as numBeams hypotheses are finished', async () => {
    const model = new MockLanguageModel({ vocabSize: 4, logits: first });
    const result = await run(first, true, { model });
    expect(realTokens(result)).toEqual([[EOS], [A, EOS]]);
    expect(result.sequenceScores![0]).toBeCloseTo(Math.log(0.5), 5);
    expect(result.sequenceScores![1]).toBeCloseTo((Math.log(0.4) + Math.log(0.4)) / 2, 5);
    // Two steps: the model ran the prompt and one step, no more.
    expect(model.calls.forward).toBe(1);
  });

  it('false: continues while the best running beam, at its current length, could beat the worst hypothesis', async () => {
    // After step 2 the bound is -1.609 / 2 = -0.805 > -0.916 (worst finished): continue; "AAAAAA" wins, then the
    // best short one, "!" (the B branch's hypotheses all score below -1).
    const result = await run(first, false);
    expect(realTokens(result)).toEqual([[A, A, A, A, A, A], [EOS]]);
    expect(result.sequenceScores![0]).toBeCloseTo(aaaaaa, 5);
    expect(result.sequenceScores![1]).toBeCloseTo(Math.log(0.5), 5);
    expect(result.finishReasons).toEqual(['length', 'eos']);
  });

  // Same shape, but "A!" scores -0.698: after step 2 the current-length bound -1.62 / 2 = -0.81 is below the worst
  // hypothesis (-0.698), so `false` stops; `'never'` bounds with the maximum length (-1.62 / 6 = -0.27) and goes on
  // to find "AAAAAA" = (-1.62 + 4 ln 0.98) / 6.
  const second = scripted(
    {
      '': [0.45, 0.05, 0.5],
      A: [0.44, 0.01, 0.55],
      AA: [0.98, 0.01, 0.01],
      AAA: [0.98, 0.01, 0.01],
      AAAA: [0.98, 0.01, 0.01],
      AAAAA: [0.98, 0.01, 0.01],
    },
    [0.02, 0.02, 0.96],
  );

  it("false vs 'never': the current-length bound stops early, the max-length bound does not", async () => {
    const stopped = await run(second, false);
    expect(realTokens(stopped)).toEqual([[EOS], [A, EOS]]);
    expect(stopped.sequenceScores![1]).toBeCloseTo((Math.log(0.45) + Math.log(0.55)) / 2, 5);
    // The output is as long as the longest returned hypothesis.
    expect(stopped.generatedIds).toEqual([
      [EOS, PAD],
      [A, EOS],
    ]);
    const never = await run(second, 'never');
    expect(never.generatedIds[0]).toEqual([A, A, A, A, A, A]);
    expect(never.sequenceScores![0]).toBeCloseTo((Math.log(0.45) + Math.log(0.44) + 4 * Math.log(0.98)) / 6, 5);
  });

  it("'never' with a negative length penalty bounds with the current length, like false", async () => {
    // lengthPenalty -0.5: a score is multiplied by sqrt(length). After step 2: "!" = -0.693, "A!" = (ln 0.45 +
    // ln 0.39) * sqrt(2) = -2.462; running "AA" = ln 0.45 + ln 0.6 = -1.310. The current-length bound
    // -1.310 * sqrt(2) = -1.853 beats -2.462, so the search goes on (the max-length bound, -1.310 * sqrt(6) = -3.21,
    // would stop it), and finds "AA!" = (-1.310 + ln 0.98) * sqrt(3) = -2.304.
    const third = scripted({ '': [0.45, 0.05, 0.5], A: [0.6, 0.01, 0.39], AA: [0.01, 0.01, 0.98] }, [0.02, 0.02, 0.96]);
    for (const earlyStopping of ['never', false] as const) {
      const result = await run(third, earlyStopping, { lengthPenalty: -0.5 });
      expect(realTokens(result)).toEqual([[EOS], [A, A, EOS]]);
      expect(result.sequenceScores![1]).toBeCloseTo(
        (Math.log(0.45) + Math.log(0.6) + Math.log(0.98)) * Math.sqrt(3),
        5,
      );
    }
  });

  it('keeps a batch row that is done closed while another row goes on', async () => {
    // Row 0 (prompt [B]) follows `second`: done after two steps, although "AAAAAA" would score better later. Row 1
    // (prompt [A]) never favours EOS, so the batch runs to the end; row 0 must not take "AAAAAA" on the way.
    const logits = (context: readonly number[]) =>
      context[0] === A
        ? Float32Array.from([0.9, 0.05, 0.05, 0], (probability, token) =>
            token === PAD ? -Infinity : Math.log(probability),
          )
        : second(context);
    const result = await generate({
      model: new MockLanguageModel({ vocabSize: 4, logits }),
      inputIds: [[B], [A]],
      numBeams: 2,
      numReturnSequences: 2,
      maxNewTokens: 6,
      eosTokenId: EOS,
      padTokenId: PAD,
      earlyStopping: false,
    });
    expect(realTokens(result).slice(0, 2)).toEqual([[EOS], [A, EOS]]);
    expect(result.generatedIds[2]).toEqual([A, A, A, A, A, A]);
  });

  it('returns the best numReturnSequences, padded with the pad id to the longest', async () => {
    const result = await run(first, false);
    expect(result.generatedIds).toEqual([
      [A, A, A, A, A, A],
      [EOS, PAD, PAD, PAD, PAD, PAD],
    ]);
    expect(result.lengths).toEqual([6, 1]);
    const one = await run(first, false, { numReturnSequences: 1 });
    expect(one.generatedIds).toEqual([[A, A, A, A, A, A]]);
    expect(one.sequenceScores).toHaveLength(1);
  });

  it("pads with the first EOS id when the pad id is 0 (transformers' `pad_token_id or eos_token_id[0]`)", async () => {
    const result = await run(first, false, { padTokenId: 0 });
    expect(result.generatedIds[1]).toEqual([EOS, EOS, EOS, EOS, EOS, EOS]);
  });
});

describe('beam search: plumbing', () => {
  it('expands the prompt cache once per beam and reorders it every step', async () => {
    const model = new MockLanguageModel({ vocabSize: 16, logits: hashedLogits(16) });
    await generate({
      model,
      inputIds: [
        [1, 2],
        [3, 4],
      ],
      numBeams: 3,
      maxNewTokens: 3,
      eosTokenId: null,
    });
    expect(model.calls.prefill).toBe(1);
    expect(model.prefillTokens).toBe(4);
    expect(Array.from(model.selections[0]!)).toEqual([0, 0, 0, 1, 1, 1]);
    // Reorders stay within each batch row's beams.
    for (const selection of model.selections.slice(1)) {
      expect(Array.from(selection.subarray(0, 3)).every((row) => row < 3)).toBe(true);
      expect(Array.from(selection.subarray(3)).every((row) => row >= 3)).toBe(true);
    }
    expect(model.liveCaches).toBe(0);
  });

  it('shows processed log-probabilities to onStep', async () => {
    const model = new MockLanguageModel({ vocabSize: 16, logits: hashedLogits(16) });
    let firstStep: number[] | undefined;
    await generate({
      model,
      inputIds: [[1, 2]],
      numBeams: 2,
      maxNewTokens: 2,
      eosTokenId: null,
      onStep: (step) => {
        expect(step.rowCount).toBe(2);
        if (step.step === 0) firstStep = Array.from(step.scores.subarray(0, 16));
      },
    });
    const expected = logSoftmax(hashedLogits(16)([1, 2]));
    firstStep!.forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 5));
  });

  it('beam sampling repeats itself with a seed', async () => {
    const go = (seed: number) =>
      generate({
        model: new MockLanguageModel({ vocabSize: 16, logits: hashedLogits(16) }),
        inputIds: [[1, 2]],
        numBeams: 3,
        doSample: true,
        seed,
        maxNewTokens: 6,
        eosTokenId: 3,
      });
    const first = await go(5);
    expect((await go(5)).generatedIds).toEqual(first.generatedIds);
    expect(first.seed).toBe(5);
  });
});
