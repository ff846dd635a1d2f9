import { Tensor, VideoLlavaError } from '@video-llava/core';
import { parseGenerationConfig } from '@video-llava/config';
import { describe, expect, it } from 'vitest';
import type { CausalLanguageModel } from './causal-language-model.js';
import { generate } from './generate.js';
import { MockLanguageModel, hashedLogits } from './testing/mock-language-model.js';

const VOCAB = 64;
const EOS = 2;
const PAD = 0;

/** argmax written out here, independently of the package: first maximum wins. */
function best(values: ArrayLike<number>): number {
  let index = 0;
  for (let candidate = 1; candidate < values.length; candidate++)
    if (values[candidate]! > values[index]!) index = candidate;
  return index;
}

/** Greedy decoding spelled out step by step, with an optional score rule applied before the argmax. */
function referenceGreedy(
  logits: (context: readonly number[]) => ArrayLike<number>,
  prompt: number[],
  steps: number,
  rule?: (context: number[], scores: number[]) => void,
): number[] {
  const context = [...prompt];
  const generated: number[] = [];
  for (let step = 0; step < steps; step++) {
    const scores = Array.from(logits(context));
    rule?.(context, scores);
    const token = best(scores);
    generated.push(token);
    context.push(token);
  }
  return generated;
}

/** A language model that follows a script per prompt: `scripts[k]` is the continuation of a prompt whose 2nd real token is k. */
function scriptedLogits(scripts: Record<number, number[]>, promptLengths: Record<number, number>) {
  return (context: readonly number[]) => {
    const key = context[1]!;
    const script = scripts[key]!;
    const position = context.length - promptLengths[key]!;
    const logits = new Float32Array(VOCAB);
    logits[script[position] ?? 3] = 10;
    return logits;
  };
}

function expectError(error: unknown, code: string, field: string): void {
  expect(VideoLlavaError.isInstance(error) && error.code).toBe(code);
  expect((error as VideoLlavaError).field).toBe(field);
}

describe('generate: greedy search', () => {
  it('takes the argmax at every step, feeding each token back through the cache', async () => {
    const logits = hashedLogits(VOCAB);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const result = await generate({ model, inputIds: [[1, 17, 33, 5]], maxNewTokens: 12, eosTokenId: null });
    expect(result.generatedIds).toEqual([referenceGreedy(logits, [1, 17, 33, 5], 12)]);
    expect(result.lengths).toEqual([12]);
    expect(result.finishReasons).toEqual(['length']);
    expect(model.calls).toEqual({ prefill: 1, forward: 11, selectCacheRows: 0, releaseCache: 1 });
    expect(model.liveCaches).toBe(0);
  });

  it('accepts an int64 tensor prompt and mask', async () => {
    const logits = hashedLogits(VOCAB);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const inputIds = new Tensor('int64', BigInt64Array.from([1n, 9n, 4n]), [1, 3]);
    const attentionMask = new Tensor('int64', BigInt64Array.from([1n, 1n, 1n]), [1, 3]);
    const result = await generate({ model, inputIds, attentionMask, maxNewTokens: 5, eosTokenId: null });
    expect(result.generatedIds[0]).toEqual(referenceGreedy(logits, [1, 9, 4], 5));
  });

  it('lets rows of a left-padded batch finish separately, padding the finished ones', async () => {
    // Row 0 (prompt 1 5, padded to 3) says 9 then EOS; row 1 (prompt 1 6 7) says 8 9 10 then EOS.
    const logits = scriptedLogits({ 5: [9, EOS], 6: [8, 9, 10, EOS] }, { 5: 2, 6: 3 });
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const result = await generate({
      model,
      inputIds: [
        [PAD, 1, 5],
        [1, 6, 7],
      ],
      attentionMask: [
        [0, 1, 1],
        [1, 1, 1],
      ],
      maxNewTokens: 10,
      eosTokenId: EOS,
      padTokenId: PAD,
    });
    expect(result.generatedIds).toEqual([
      [9, EOS, PAD, PAD],
      [8, 9, 10, EOS],
    ]);
    expect(result.lengths).toEqual([2, 4]);
    expect(result.finishReasons).toEqual(['eos', 'eos']);
    // The model never runs after the last token.
    expect(model.calls.forward).toBe(3);
    expect(model.liveCaches).toBe(0);
  });

  it('infers the attention mask from the pad id when none is given', async () => {
    const logits = scriptedLogits({ 5: [9, EOS], 6: [8, EOS] }, { 5: 2, 6: 3 });
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const result = await generate({
      model,
      inputIds: [
        [PAD, 1, 5],
        [1, 6, 7],
      ],
      maxNewTokens: 4,
      eosTokenId: EOS,
      padTokenId: PAD,
    });
    expect(result.generatedIds).toEqual([
      [9, EOS],
      [8, EOS],
    ]);
  });

  it('stops on any of several EOS ids, and pads with the first EOS id when there is no pad id', async () => {
    const logits = scriptedLogits({ 5: [9, 4], 6: [8, 9, 10, 11] }, { 5: 2, 6: 2 });
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const result = await generate({
      model,
      inputIds: [
        [1, 5],
        [1, 6],
      ],
      maxNewTokens: 4,
      eosTokenId: [EOS, 4],
      padTokenId: null,
    });
    expect(result.generatedIds).toEqual([
      [9, 4, EOS, EOS],
      [8, 9, 10, 11],
    ]);
    expect(result.finishReasons).toEqual(['eos', 'length']);
  });

  it("uses the checkpoint's generation_config.json: 20 new tokens by default, its EOS and pad ids", async () => {
    const logits = scriptedLogits({ 5: [9, 10, 2] }, { 5: 2 });
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const generationConfig = parseGenerationConfig({ bos_token_id: 1, eos_token_id: 2, pad_token_id: 32002 });
    const result = await generate({ model, inputIds: [[1, 5]], generationConfig });
    expect(result.generatedIds).toEqual([[9, 10, 2]]);
    const long = await generate({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) }),
      inputIds: [[1, 5]],
      generationConfig,
      eosTokenId: null,
    });
    expect(long.generatedIds[0]).toHaveLength(20);
  });

  it('caps prompt + new tokens at maxPositionEmbeddings before any work (finish reason length); refuses a prompt that fills it', async () => {
    const logits = hashedLogits(VOCAB);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits, maxPositionEmbeddings: 8 });
    const result = await generate({ model, inputIds: [[1, 17, 33]], maxNewTokens: 1e9, eosTokenId: null });
    expect(result.generatedIds).toEqual([referenceGreedy(logits, [1, 17, 33], 5)]);
    expect(result.finishReasons).toEqual(['length']);
    // The last token is never fed back: the model saw at most 7 positions.
    expect(model.calls.forward).toBe(4);
    const full = new MockLanguageModel({ vocabSize: VOCAB, logits, maxPositionEmbeddings: 3 });
    await expect(generate({ model: full, inputIds: [[1, 17, 33]], maxNewTokens: 4 })).rejects.toMatchObject({
      code: 'SEQUENCE_TOO_LONG',
      field: 'inputIds',
    });
    expect(full.calls.prefill).toBe(0);
  });

  it('stops every row at maxLength, a total length (prompt included)', async () => {
    const logits = hashedLogits(VOCAB);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const result = await generate({ model, inputIds: [[1, 17, 33]], maxLength: 5, eosTokenId: null });
    expect(result.generatedIds).toEqual([referenceGreedy(logits, [1, 17, 33], 2)]);
    expect(result.finishReasons).toEqual(['length']);
    expect(model.calls.forward).toBe(1);
  });

  it('masks EOS until minNewTokens new tokens', async () => {
    // EOS is always the best token; the rest comes from the hash.
    const hashed = hashedLogits(VOCAB);
    const logits = (context: readonly number[]) => {
      const values = hashed(context);
      values[EOS] = 50;
      return values;
    };
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const plain = await generate({ model, inputIds: [[1, 8]], maxNewTokens: 6, eosTokenId: EOS });
    expect(plain.generatedIds).toEqual([[EOS]]);
    const delayed = await generate({ model, inputIds: [[1, 8]], maxNewTokens: 6, eosTokenId: EOS, minNewTokens: 3 });
    const expected = referenceGreedy(logits, [1, 8], 3, (_context, scores) => (scores[EOS] = -Infinity));
    expect(delayed.generatedIds).toEqual([[...expected, EOS]]);
    const total = await generate({ model, inputIds: [[1, 8]], maxNewTokens: 6, eosTokenId: EOS, minLength: 4 });
    expect(total.generatedIds).toEqual([[...expected.slice(0, 2), EOS]]);
  });

  it('applies the repetition penalty to every token seen, prompt included (divide positive, multiply negative)', async () => {
    const logits = hashedLogits(VOCAB, 4, 7);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const prompt = [1, 40, 41, 42, 40];
    const result = await generate({
      model,
      inputIds: [prompt],
      maxNewTokens: 16,
      eosTokenId: null,
      repetitionPenalty: 1.3,
    });
    const expected = referenceGreedy(logits, prompt, 16, (context, scores) => {
      for (const token of new Set(context)) {
        const score = scores[token]!;
        scores[token] = Math.fround(score < 0 ? score * Math.fround(1.3) : score / Math.fround(1.3));
      }
    });
    expect(result.generatedIds).toEqual([expected]);
    const unpenalized = await generate({ model, inputIds: [prompt], maxNewTokens: 16, eosTokenId: null });
    expect(unpenalized.generatedIds[0]).not.toEqual(expected);
  });

  it('never repeats an n-gram (prompt included) with noRepeatNgramSize', async () => {
    // A model that loves to repeat: the best token is always the one two back.
    const hashed = hashedLogits(VOCAB);
    const logits = (context: readonly number[]) => {
      const values = hashed(context);
      values[context[context.length - 2]!] = 20;
      return values;
    };
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const prompt = [1, 10, 11];
    const result = await generate({
      model,
      inputIds: [prompt],
      maxNewTokens: 10,
      eosTokenId: null,
      noRepeatNgramSize: 2,
    });
    const expected = referenceGreedy(logits, prompt, 10, (context, scores) => {
      const last = context[context.length - 1];
      for (let index = 0; index + 1 < context.length; index++)
        if (context[index] === last) scores[context[index + 1]!] = -Infinity;
    });
    expect(result.generatedIds).toEqual([expected]);
    const all = [...prompt, ...result.generatedIds[0]!];
    const bigrams = all.slice(1).map((token, index) => `${all[index]},${token}`);
    expect(new Set(bigrams).size).toBe(bigrams.length);
  });

  it('stops a row on a stop string, using the decode function', async () => {
    const letters = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_';
    const decode = (tokens: readonly number[]) => tokens.map((token) => letters[token]).join('');
    const logits = hashedLogits(VOCAB, 4, 3);
    const free = referenceGreedy(logits, [1, 2], 12);
    const stop = decode(free.slice(4, 6));
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const result = await generate({
      model,
      inputIds: [[1, 2]],
      maxNewTokens: 12,
      eosTokenId: null,
      stopStrings: stop,
      decode,
    });
    const firstEnd = decode(free).indexOf(stop) + stop.length;
    expect(result.generatedIds).toEqual([free.slice(0, firstEnd)]);
    expect(result.finishReasons).toEqual(['stop-string']);
  });

  it('shows every step to onStep, with the processed scores and their top-k', async () => {
    const logits = hashedLogits(VOCAB);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const seen: number[][] = [];
    const contexts: number[][] = [];
    const result = await generate({
      model,
      inputIds: [[3, 4]],
      maxNewTokens: 5,
      eosTokenId: null,
      repetitionPenalty: 2,
      onStep: (step) => {
        expect(step.rowCount).toBe(1);
        expect(step.vocabSize).toBe(VOCAB);
        seen.push(step.topK(3).indices[0]!);
        expect(step.topK(2, 'logits').indices[0]).toEqual(
          Array.from(step.logits)
            .map((value, index) => [value, index] as const)
            .sort((left, right) => right[0] - left[0] || left[1] - right[1])
            .slice(0, 2)
            .map(([, index]) => index),
        );
      },
    });
    const context = [3, 4];
    for (const token of result.generatedIds[0]!) {
      contexts.push([...context]);
      context.push(token);
    }
    const expectedTop = contexts.map((before) => {
      const scores = Array.from(logits(before));
      for (const token of new Set(before))
        scores[token] = Math.fround(scores[token]! < 0 ? scores[token]! * 2 : scores[token]! / 2);
      return scores
        .map((value, index) => [value, index] as const)
        .sort((left, right) => right[0] - left[0] || left[1] - right[1])
        .slice(0, 3)
        .map(([, index]) => index);
    });
    expect(seen).toEqual(expectedTop);
    expect(seen.map((top) => top[0])).toEqual(result.generatedIds[0]);
  });

  it('hands over the cache with keepCache, holding every position but the last token', async () => {
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) });
    const result = await generate({ model, inputIds: [[1, 2, 3]], maxNewTokens: 4, eosTokenId: null, keepCache: true });
    expect(result.cacheLength).toBe(6);
    expect(result.cache?.length).toBe(6);
    expect(result.cache?.rows[0]).toEqual([1, 2, 3, ...result.generatedIds[0]!.slice(0, 3)]);
    expect(model.liveCaches).toBe(1);
    await model.releaseCache(result.cache!);
    expect(model.liveCaches).toBe(0);
  });

  it('reports progress for prefill and decode', async () => {
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) });
    const events: string[] = [];
    await generate({
      model,
      inputIds: [[1, 2, 3]],
      maxNewTokens: 2,
      eosTokenId: null,
      onProgress: (event) => events.push(`${event.stage} ${event.done}/${event.total}`),
    });
    expect(events).toEqual(['prefill 0/3', 'prefill 3/3', 'decode 1/2', 'decode 2/2']);
  });
});

describe('generate: errors', () => {
  const base = () => new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) });

  it('refuses ragged, out-of-vocabulary or empty prompts and masks that do not fit', async () => {
    await expect(generate({ model: base(), inputIds: [[1, 2], [3]] })).rejects.toSatisfy(
      (error) => (expectError(error, 'SHAPE_MISMATCH', 'inputIds[1]'), true),
    );
    await expect(generate({ model: base(), inputIds: [[1, VOCAB]] })).rejects.toSatisfy(
      (error) => (expectError(error, 'INVALID_ARGUMENT', 'inputIds[0][1]'), true),
    );
    await expect(generate({ model: base(), inputIds: [] })).rejects.toSatisfy(
      (error) => (expectError(error, 'INVALID_ARGUMENT', 'inputIds'), true),
    );
    await expect(generate({ model: base(), inputIds: [[1, 2]], attentionMask: [[1]] })).rejects.toSatisfy(
      (error) => (expectError(error, 'SHAPE_MISMATCH', 'attentionMask'), true),
    );
    await expect(generate({ model: base(), inputIds: [[1, 2]], attentionMask: [[0, 0]] })).rejects.toSatisfy(
      (error) => (expectError(error, 'INVALID_ARGUMENT', 'attentionMask[0]'), true),
    );
    // An inferred mask with a row of nothing but the pad id.
    await expect(
      generate({
        model: base(),
        inputIds: [
          [PAD, 1],
          [PAD, PAD],
        ],
        padTokenId: PAD,
        eosTokenId: EOS,
      }),
    ).rejects.toSatisfy((error) => (expectError(error, 'INVALID_ARGUMENT', 'attentionMask'), true));
  });

  it('refuses a prompt that does not fit in maxLength', async () => {
    await expect(generate({ model: base(), inputIds: [[1, 2, 3]], maxLength: 3 })).rejects.toSatisfy(
      (error) => (expectError(error, 'SEQUENCE_TOO_LONG', 'maxLength'), true),
    );
  });

  it('refuses beam search on a model that cannot reorder its cache', async () => {
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB), selectCacheRows: false });
    await expect(generate({ model, inputIds: [[1, 2]], numBeams: 2 })).rejects.toSatisfy(
      (error) => (expectError(error, 'UNSUPPORTED', 'model.selectCacheRows'), true),
    );
    expect(model.calls.prefill).toBe(0);
  });

  it('refuses stop strings without a decode function', async () => {
    await expect(generate({ model: base(), inputIds: [[1, 2]], stopStrings: ['x'] })).rejects.toSatisfy(
      (error) => (expectError(error, 'INVALID_ARGUMENT', 'decode'), true),
    );
  });

  it('names logits of the wrong size and NaN logits, releasing the cache', async () => {
    const wrong = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) });
    const shrunk: CausalLanguageModel<unknown> = {
      vocabSize: VOCAB,
      prefill: async (input) => ({ ...(await wrong.prefill(input)), logits: new Float32Array(VOCAB - 1) }),
      forward: (input) => wrong.forward(input as never),
      releaseCache: (cache) => wrong.releaseCache(cache as never),
    };
    await expect(generate({ model: shrunk, inputIds: [[1, 2]] })).rejects.toSatisfy(
      (error) => (expectError(error, 'SHAPE_MISMATCH', 'prefill.logits'), true),
    );
    expect(wrong.liveCaches).toBe(0);

    const nan = new MockLanguageModel({
      vocabSize: VOCAB,
      logits: (context) =>
        context.length > 3 ? new Float32Array(VOCAB).fill(Number.NaN) : hashedLogits(VOCAB)(context),
    });
    await expect(generate({ model: nan, inputIds: [[1, 2]], maxNewTokens: 5, eosTokenId: null })).rejects.toSatisfy(
      (error) => (expectError(error, 'RUNTIME_ERROR', 'forward.logits'), true),
    );
    expect(nan.liveCaches).toBe(0);
  });

  it('wraps a failing model call with its cause, and a throwing hook leaves no cache behind', async () => {
    const inner = base();
    const failing: CausalLanguageModel<unknown> = {
      vocabSize: VOCAB,
      prefill: (input) => inner.prefill(input),
      forward: async (input) => {
        await inner.releaseCache(input.cache as never);
        throw new TypeError('session exploded');
      },
      releaseCache: (cache) => inner.releaseCache(cache as never),
    };
    const error = await generate({ model: failing, inputIds: [[1, 2]], maxNewTokens: 5, eosTokenId: null }).catch(
      (caught: unknown) => caught,
    );
    expectError(error, 'RUNTIME_ERROR', 'forward');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(inner.liveCaches).toBe(0);

    const hooked = base();
    await expect(
      generate({
        model: hooked,
        inputIds: [[1, 2]],
        maxNewTokens: 5,
        onStep: () => {
          throw new Error('hook failed');
        },
      }),
    ).rejects.toThrow('hook failed');
    expect(hooked.liveCaches).toBe(0);
  });

  it('refuses a model that is not a CausalLanguageModel', async () => {
    await expect(generate({ model: {} as never, inputIds: [[1]] })).rejects.toSatisfy(
      (error) => (expectError(error, 'INVALID_ARGUMENT', 'model'), true),
    );
  });
});
