import { describe, expect, it } from 'vitest';
import { generate } from './generate.js';
import { PhiloxRandom } from './philox-random.js';
import { MockLanguageModel, hashedLogits } from './testing/mock-language-model.js';

// ---- chi-square goodness of fit, written out here ---------------------------------------------------------------

/** ln Γ(x) (Lanczos, g = 7, n = 9), accurate to ~1e-15 for x > 0. */
function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = coefficients[0]!;
  for (let index = 1; index < 9; index++) sum += coefficients[index]! / (shifted + index);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Regularized upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
function upperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * 1e-16) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let n = 1; n < 500; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    d = Math.abs(d) < 1e-300 ? 1e-300 : d;
    c = b + an / c;
    c = Math.abs(c) < 1e-300 ? 1e-300 : c;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** P(X >= statistic) for a chi-square variable with `degrees` degrees of freedom. */
function chiSquarePValue(statistic: number, degrees: number): number {
  return upperGamma(degrees / 2, statistic / 2);
}

/** Pearson's statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], probabilities: number[]): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.reduce(
    (sum, count, index) => sum + (count - total * probabilities[index]!) ** 2 / (total * probabilities[index]!),
    0,
  );
}

// The significance of every distribution test below. Seeds are fixed, so each test is deterministic: it fails only
// if the sampler is wrong (or, with probability 0.001 per test, had the seed been drawn at random).
const SIGNIFICANCE = 0.001;

describe('chi-square helper', () => {
  it('matches the closed form for 2 degrees of freedom (exp(-x/2)) and a table value', () => {
    for (const x of [0.5, 3, 13.8155]) expect(chiSquarePValue(x, 2)).toBeCloseTo(Math.exp(-x / 2), 10);
    // Statistical tables: the 0.001 critical value for 4 degrees of freedom is 18.467.
    expect(chiSquarePValue(18.467, 4)).toBeCloseTo(0.001, 5);
  });
});

// ---- sampling through the loop ----------------------------------------------------------------------------------

const ROWS = 2500;
const STEPS = 8;

/**
 * Draws ROWS x STEPS tokens from a model whose next-token logits are always ln(weights) (whatever the context),
 * through `generate` (numReturnSequences rows of one prompt), and counts them.
 */
async function sampleCounts(
  weights: number[],
  options: Parameters<typeof generate>[0] extends infer T ? Partial<T> : never,
): Promise<number[]> {
  const logits = Float32Array.from(weights, (weight) => (weight > 0 ? Math.log(weight) : -Infinity));
  const model = new MockLanguageModel({ vocabSize: weights.length, logits: () => logits });
  const result = await generate({
    model,
    inputIds: [[0]],
    maxNewTokens: STEPS,
    eosTokenId: null,
    doSample: true,
    numReturnSequences: ROWS,
    seed: 20240611,
    ...options,
  });
  const counts = new Array<number>(weights.length).fill(0);
  for (const row of result.generatedIds) for (const token of row) counts[token]!++;
  expect(counts.reduce((sum, count) => sum + count, 0)).toBe(ROWS * STEPS);
  return counts;
}

/** Checks that only `allowed` tokens were drawn, in proportion to `weights` renormalized over them. */
function expectProportional(counts: number[], weights: number[], allowed: number[]): void {
  counts.forEach((count, token) => {
    if (!allowed.includes(token)) expect(count, `token ${token} is outside the allowed set`).toBe(0);
  });
  const mass = allowed.reduce((sum, token) => sum + weights[token]!, 0);
  const statistic = chiSquare(
    allowed.map((token) => counts[token]!),
    allowed.map((token) => weights[token]! / mass),
  );
  expect(chiSquarePValue(statistic, allowed.length - 1)).toBeGreaterThan(SIGNIFICANCE);
}

describe('sampling: distributions', () => {
  it('draws in proportion to softmax(logits) with no filter (topK 0)', async () => {
    const weights = [5, 1, 3, 0.5, 2, 8];
    expectProportional(await sampleCounts(weights, { topK: 0 }), weights, [0, 1, 2, 3, 4, 5]);
  });

  it('top-k draws only from the k most likely, renormalized', async () => {
    // weights 8 4 2 1 1 0.5: top-3 = tokens 0, 1, 2 with probabilities 8/14, 4/14, 2/14.
    const weights = [8, 4, 2, 1, 1, 0.5];
    expectProportional(await sampleCounts(weights, { topK: 3 }), weights, [0, 1, 2]);
  });

  it('top-p draws only from the nucleus, renormalized', async () => {
    // probabilities 0.4 0.3 0.2 0.1: ascending cumulative 0.1, 0.3, ... ; topP 0.75 removes what stays <= 0.25,
    // i.e. token 3 (0.1). The nucleus {0, 1, 2} has probabilities 4/9, 3/9, 2/9.
    const weights = [0.4, 0.3, 0.2, 0.1];
    expectProportional(await sampleCounts(weights, { topK: 0, topP: 0.75 }), weights, [0, 1, 2]);
    // topP 0.5 removes what stays <= 0.5: 0.1 and 0.1 + 0.2 -> tokens 3 and 2 go; {0, 1} remain, 4/7 and 3/7.
    expectProportional(await sampleCounts(weights, { topK: 0, topP: 0.5 }), weights, [0, 1]);
  });

  it('min-p draws only from tokens above minP x top probability, renormalized', async () => {
    // probabilities 0.5 0.25 0.15 0.1: minP 0.25 -> threshold 0.125, token 3 (0.1) goes.
    const weights = [0.5, 0.25, 0.15, 0.1];
    expectProportional(await sampleCounts(weights, { topK: 0, minP: 0.25 }), weights, [0, 1, 2]);
  });

  it('temperature T draws with probabilities proportional to weight^(1/T)', async () => {
    const weights = [9, 4, 1];
    const flattened = weights.map((weight) => Math.sqrt(weight)); // T = 2: 3 : 2 : 1
    expectProportional(await sampleCounts(weights, { topK: 0, temperature: 2 }), flattened, [0, 1, 2]);
  });

  it('combines top-k then top-p in that order', async () => {
    // top-k 3 keeps 0.4 0.3 0.2 (renormalized 4/9 3/9 2/9 = 0.444 0.333 0.222); then top-p 0.7 removes what stays
    // <= 0.3 in ascending order: 0.222 -> tokens {0, 1} remain.
    const weights = [0.4, 0.3, 0.2, 0.1];
    expectProportional(await sampleCounts(weights, { topK: 3, topP: 0.7 }), weights, [0, 1]);
  });
});

describe('sampling: seeds', () => {
  const run = (seed: number | undefined, extra: Record<string, unknown> = {}) =>
    generate({
      model: new MockLanguageModel({ vocabSize: 40, logits: hashedLogits(40, 2) }),
      inputIds: [[1, 2, 3]],
      maxNewTokens: 24,
      eosTokenId: null,
      doSample: true,
      seed,
      ...extra,
    });

  it('repeats itself with a fixed seed, and reports the seed', async () => {
    const first = await run(7);
    const again = await run(7);
    expect(again.generatedIds).toEqual(first.generatedIds);
    expect(first.seed).toBe(7);
    expect((await run(8)).generatedIds).not.toEqual(first.generatedIds);
  });

  it('reports a random seed when none is given, and that seed repeats the run', async () => {
    const first = await run(undefined);
    expect(Number.isSafeInteger(first.seed)).toBe(true);
    expect((await run(first.seed)).generatedIds).toEqual(first.generatedIds);
  });

  it('uses a custom random generator as given', async () => {
    const first = await run(undefined, { randomGenerator: new PhiloxRandom(99) });
    expect(first.seed).toBeUndefined();
    expect((await run(99)).generatedIds).toEqual(first.generatedIds);
  });

  it('draws the same stream for a row whether or not other rows finished (one draw per row and step)', async () => {
    const logits = hashedLogits(40, 2);
    const scripted = (context: readonly number[]) => {
      const values = logits(context);
      if (context[0] === 5) values.fill(-Infinity).fill(10, 2, 3); // row 1 says EOS at once
      return values;
    };
    const model = new MockLanguageModel({ vocabSize: 40, logits: scripted });
    const pair = await generate({
      model,
      inputIds: [
        [1, 2, 3],
        [5, 2, 3],
      ],
      maxNewTokens: 10,
      eosTokenId: 2,
      doSample: true,
      seed: 11,
      topK: 0,
    });
    expect(pair.generatedIds[1]!.slice(0, 2)).toEqual([2, 2]);
    const two = await generate({
      model,
      inputIds: [
        [1, 2, 3],
        [1, 2, 3],
      ],
      maxNewTokens: pair.generatedIds[0]!.length,
      eosTokenId: 2,
      doSample: true,
      seed: 11,
      topK: 0,
    });
    expect(two.generatedIds[0]).toEqual(pair.generatedIds[0]);
  });

  it('returns numReturnSequences independent samples per batch row, batch row first', async () => {
    const model = new MockLanguageModel({ vocabSize: 40, logits: hashedLogits(40, 2) });
    const result = await generate({
      model,
      inputIds: [
        [1, 2],
        [3, 4],
      ],
      maxNewTokens: 6,
      eosTokenId: null,
      doSample: true,
      seed: 3,
      numReturnSequences: 3,
    });
    expect(result.generatedIds).toHaveLength(6);
    expect(new Set(result.generatedIds.slice(0, 3).map(String)).size).toBeGreaterThan(1);
    // The prompt ran once per batch row; its cache was expanded for the 3 samples.
    expect(model.calls.prefill).toBe(1);
    expect(model.prefillTokens).toBe(4);
    expect(Array.from(model.selections[0]!)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('prefills the expanded prompt when the model cannot select cache rows', async () => {
    const model = new MockLanguageModel({ vocabSize: 40, logits: hashedLogits(40, 2), selectCacheRows: false });
    const result = await generate({
      model,
      inputIds: [[1, 2]],
      maxNewTokens: 3,
      eosTokenId: null,
      doSample: true,
      seed: 3,
      numReturnSequences: 2,
    });
    expect(result.generatedIds).toHaveLength(2);
    expect(model.prefillTokens).toBe(4);
  });
});
