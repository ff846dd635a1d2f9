import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { resolveGenerationSettings } from '../resolve-generation-settings.js';
import { buildLogitsProcessors } from './build-logits-processors.js';
import { MinLengthLogitsProcessor, MinNewTokensLengthLogitsProcessor } from './min-length.js';
import { MinPLogitsWarper } from './min-p.js';
import { NoRepeatNGramLogitsProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyLogitsProcessor } from './repetition-penalty.js';
import { TemperatureLogitsWarper } from './temperature.js';
import { TopKLogitsWarper } from './top-k.js';
import { TopPLogitsWarper } from './top-p.js';

const ids = (...rows: number[][]) => rows.map((row) => Int32Array.from(row));
const scores = (...values: number[]) => new Float32Array(values);
const logsOf = (...probabilities: number[]) => new Float32Array(probabilities.map(Math.log));
const NEG = -Infinity;

function expectError(run: () => unknown, field: string): void {
  try {
    run();
    expect.unreachable();
  } catch (error) {
    expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
    expect((error as VideoLlavaError).field).toBe(field);
  }
}

describe('RepetitionPenaltyLogitsProcessor', () => {
  it('divides positive and multiplies negative scores of seen tokens, once per token, prompt and padding included', () => {
    // token 0 seen twice (2 / 2 once = 1), token 1 negative (-2 * 2 = -4), token 4 (a pad id) seen: 6 / 2 = 3.
    const values = scores(2, -2, 0.5, 3, 6);
    new RepetitionPenaltyLogitsProcessor(2).process(ids([4, 0, 1, 0]), values);
    expect(Array.from(values)).toEqual([1, -4, 0.5, 3, 3]);
  });

  it('rounds like float32 PyTorch: 1 / 1.3 is the float32 quotient of float32 operands', () => {
    const values = scores(1, -1);
    new RepetitionPenaltyLogitsProcessor(1.3).process(ids([0, 1]), values);
    expect(values[0]).toBe(Math.fround(1 / Math.fround(1.3)));
    expect(values[1]).toBe(Math.fround(-1 * Math.fround(1.3)));
  });

  it('processes each row with its own tokens and can ignore the prompt', () => {
    const values = scores(4, 4, /* row 1 */ 4, 4);
    new RepetitionPenaltyLogitsProcessor(4).process(ids([0, 0], [1, 1]), values);
    expect(Array.from(values)).toEqual([1, 4, 4, 1]);
    const ignoring = scores(4, 4);
    new RepetitionPenaltyLogitsProcessor(4, 1).process(ids([0, 1]), ignoring);
    expect(Array.from(ignoring)).toEqual([4, 1]);
  });

  it('refuses a penalty that is not positive', () =>
    expectError(() => new RepetitionPenaltyLogitsProcessor(0), 'repetitionPenalty'));
});

describe('NoRepeatNGramLogitsProcessor', () => {
  it('bans the tokens that followed an earlier occurrence of the last n-1 tokens (prompt included)', () => {
    // n = 3, row 1 2 3 1 2: the last bigram (1, 2) was followed by 3 -> 3 banned.
    expect(new NoRepeatNGramLogitsProcessor(3).bannedTokens(Int32Array.from([1, 2, 3, 1, 2]))).toEqual([3]);
    // n = 2, row 5 6 5 7 5: 5 was followed by 6 and by 7.
    expect(new NoRepeatNGramLogitsProcessor(2).bannedTokens(Int32Array.from([5, 6, 5, 7, 5]))).toEqual([6, 7]);
    // n = 2, row 5 5: 5 was followed by 5.
    expect(new NoRepeatNGramLogitsProcessor(2).bannedTokens(Int32Array.from([5, 5]))).toEqual([5]);
    // n = 1: every token seen is banned.
    expect(new NoRepeatNGramLogitsProcessor(1).bannedTokens(Int32Array.from([2, 0, 2]))).toEqual([2, 0, 2]);
    // Fewer than n - 1 tokens: nothing (transformers' `cur_len + 1 < ngram_size`).
    expect(new NoRepeatNGramLogitsProcessor(4).bannedTokens(Int32Array.from([1, 1]))).toEqual([]);
  });

  it('sets -Infinity on the banned tokens of each row only', () => {
    const values = scores(1, 1, 1, 1, /* row 1 */ 1, 1, 1, 1);
    new NoRepeatNGramLogitsProcessor(2).process(ids([0, 1, 0], [2, 3, 3]), values);
    expect(Array.from(values)).toEqual([1, NEG, 1, 1, 1, 1, 1, NEG]);
  });
});

describe('MinLengthLogitsProcessor / MinNewTokensLengthLogitsProcessor', () => {
  it('masks every EOS id while the total length is below min length, and nothing from then on', () => {
    const short = scores(1, 2, 3, 4);
    new MinLengthLogitsProcessor(4, [1, 3]).process(ids([0, 0, 0]), short);
    expect(Array.from(short)).toEqual([1, NEG, 3, NEG]);
    const enough = scores(1, 2, 3, 4);
    new MinLengthLogitsProcessor(4, [1, 3]).process(ids([0, 0, 0, 0]), enough);
    expect(Array.from(enough)).toEqual([1, 2, 3, 4]);
  });

  it('counts only the tokens after the prompt for min new tokens', () => {
    const processor = new MinNewTokensLengthLogitsProcessor(3, 2, [2]);
    const oneNew = scores(0, 0, 5);
    processor.process(ids([9, 9, 9, 1]), oneNew);
    expect(oneNew[2]).toBe(NEG);
    const twoNew = scores(0, 0, 5);
    processor.process(ids([9, 9, 9, 1, 1]), twoNew);
    expect(twoNew[2]).toBe(5);
  });
});

describe('TemperatureLogitsWarper', () => {
  it('divides by the temperature in float32', () => {
    const values = scores(1, 2, -3);
    new TemperatureLogitsWarper(0.7).process(ids([0]), values);
    expect(Array.from(values)).toEqual([1, 2, -3].map((value) => Math.fround(value / Math.fround(0.7))));
  });

  it('refuses a temperature of 0 when sampling', () =>
    expectError(() => new TemperatureLogitsWarper(0), 'temperature'));
});

describe('TopKLogitsWarper', () => {
  it('keeps every score >= the k-th largest (ties all stay)', () => {
    const two = scores(1, 3, 2, 3);
    new TopKLogitsWarper(2).process(ids([0]), two);
    expect(Array.from(two)).toEqual([NEG, 3, NEG, 3]);
    const three = scores(1, 3, 2, 3);
    new TopKLogitsWarper(3).process(ids([0]), three);
    expect(Array.from(three)).toEqual([NEG, 3, 2, 3]);
  });

  it('keeps at least minTokensToKeep and at most the vocabulary', () => {
    const values = scores(4, 3, 2, 1);
    new TopKLogitsWarper(1, 3).process(ids([0]), values);
    expect(Array.from(values)).toEqual([4, 3, 2, NEG]);
    const all = scores(4, 3);
    new TopKLogitsWarper(10).process(ids([0]), all);
    expect(Array.from(all)).toEqual([4, 3]);
  });
});

describe('TopPLogitsWarper', () => {
  // Probabilities 0.1 0.2 0.3 0.4: ascending cumulative sums 0.1, 0.3, 0.6, 1.0; a token goes when its cumulative
  // sum is <= 1 - topP.
  it('removes the least likely tokens whose cumulative probability stays within 1 - topP', () => {
    const mild = logsOf(0.1, 0.2, 0.3, 0.4);
    new TopPLogitsWarper(0.75).process(ids([0]), mild); // 1 - 0.75 = 0.25: only 0.1 goes
    expect(Array.from(mild, (value) => value === NEG)).toEqual([true, false, false, false]);
    const strong = logsOf(0.1, 0.2, 0.3, 0.4);
    new TopPLogitsWarper(0.5).process(ids([0]), strong); // 0.5: 0.1 and 0.3 stay within -> tokens 0, 1 go
    expect(Array.from(strong, (value) => value === NEG)).toEqual([true, true, false, false]);
  });

  it('works on unsorted rows and keeps minTokensToKeep', () => {
    const values = logsOf(0.3, 0.4, 0.1, 0.2);
    new TopPLogitsWarper(0.1, 3).process(ids([0]), values); // 0.9 would remove three; three must stay
    expect(Array.from(values, (value) => value === NEG)).toEqual([false, false, true, false]);
  });

  it('removes exactly what the plain rule removes on wide rows with ties, -0 and -Infinity', () => {
    // The plain rule, written out: a stable ascending sort, float64 cumulative sums of float64 softmax, remove while
    // the sum stays <= 1 - topP, never the last minTokensToKeep. Scores are multiples of 1/4 so that ties abound.
    let state = 12345;
    const next = () => (
      (state = Math.imul(state ^ (state << 13), 1) ^ (state >>> 17)),
      (state = (state ^ (state << 5)) >>> 0),
      state / 4294967296
    );
    for (const [topP, minTokensToKeep] of [
      [0.9, 1],
      [0.5, 1],
      [0.3, 3],
      [0.99, 1],
    ] as const) {
      const values = Float32Array.from({ length: 3000 }, () => {
        const draw = next();
        return draw < 0.3 ? -Infinity : draw < 0.32 ? -0 : Math.round(next() * 40) / 4 - 5;
      });
      const order = Array.from(values.keys()).sort((left, right) => values[left]! - values[right]! || left - right);
      const finite = order.filter((index) => values[index] !== -Infinity);
      const maximum = Math.max(...finite.map((index) => values[index]!));
      const total = finite.reduce((sum, index) => sum + Math.exp(values[index]! - maximum), 0);
      const removed = new Set(order.filter((index) => values[index] === -Infinity));
      let cumulative = 0;
      for (const [rank, index] of order.entries()) {
        if (rank >= order.length - minTokensToKeep) break;
        if (values[index] === -Infinity) continue;
        cumulative += Math.exp(values[index]! - maximum) / total;
        if (cumulative > 1 - topP) break;
        removed.add(index);
      }
      const processed = values.slice();
      new TopPLogitsWarper(topP, minTokensToKeep).process(ids([0]), processed);
      const actual = new Set(Array.from(processed.keys()).filter((index) => processed[index] === -Infinity));
      expect(actual.size).toBe(removed.size);
      expect([...actual].every((index) => removed.has(index))).toBe(true);
      expect(actual.size).toBeGreaterThan(900);
      expect(actual.size).toBeLessThan(3000 - minTokensToKeep + 1);
    }
  });

  it('keeps everything at topP 1', () => {
    const values = logsOf(0.1, 0.2, 0.3, 0.4);
    new TopPLogitsWarper(1).process(ids([0]), values);
    expect(values.every((value) => value !== NEG)).toBe(true);
  });
});

describe('MinPLogitsWarper', () => {
  it('removes tokens below minP times the top probability', () => {
    // top 0.5, minP 0.25 -> threshold 0.125: 0.1 goes, 0.15 stays.
    const values = logsOf(0.5, 0.25, 0.15, 0.1);
    new MinPLogitsWarper(0.25).process(ids([0]), values);
    expect(Array.from(values, (value) => value === NEG)).toEqual([false, false, false, true]);
  });

  it('keeps the minTokensToKeep most probable even below the threshold', () => {
    const values = logsOf(0.9, 0.06, 0.04);
    new MinPLogitsWarper(0.5, 2).process(ids([0]), values);
    expect(Array.from(values, (value) => value === NEG)).toEqual([false, false, true]);
  });
});

describe('buildLogitsProcessors', () => {
  const settings = (options: Parameters<typeof resolveGenerationSettings>[1]) =>
    resolveGenerationSettings(undefined, { eosTokenId: [2], ...options }, 4);

  it("uses transformers' _get_logits_processor order", () => {
    const processors = buildLogitsProcessors(
      settings({
        repetitionPenalty: 1.2,
        noRepeatNgramSize: 3,
        minLength: 6,
        minNewTokens: 1,
        doSample: true,
        temperature: 0.5,
        topK: 5,
        topP: 0.9,
        minP: 0.1,
      }),
      [{ name: 'custom', process: () => undefined }],
    );
    expect(processors.map((processor) => processor.name)).toEqual([
      'repetition penalty',
      'no-repeat n-gram',
      'min length',
      'min new tokens',
      'custom',
      'temperature',
      'top-k',
      'top-p',
      'min-p',
    ]);
  });

  it('leaves the sampling warpers out of greedy search, and defaults (top-k 50) in sampling', () => {
    expect(
      buildLogitsProcessors(settings({ temperature: 0.5, topK: 5, topP: 0.9 })).map((processor) => processor.name),
    ).toEqual([]);
    expect(buildLogitsProcessors(settings({ doSample: true })).map((processor) => processor.name)).toEqual(['top-k']);
  });

  it('masks EOS only when there is one', () => {
    const processors = buildLogitsProcessors(
      resolveGenerationSettings(undefined, { eosTokenId: null, minNewTokens: 3 }, 4),
    );
    expect(processors).toEqual([]);
  });
});
