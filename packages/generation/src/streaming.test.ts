import { VideoLlavaError } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { generate, streamGeneration } from './generate.js';
import type { GenerationDelta } from './generation-result.js';
import type { IncrementalDetokenizer } from './incremental-detokenizer.js';
import { MockLanguageModel, hashedLogits } from './testing/mock-language-model.js';

const VOCAB = 32;
const EOS = 2;

/** Logits that make the model say `script` (then EOS forever) after a prompt of `promptLength` real tokens. */
function saying(script: number[], promptLength: number) {
  return (context: readonly number[]) => {
    const logits = new Float32Array(VOCAB);
    logits[script[context.length - promptLength] ?? EOS] = 10;
    return logits;
  };
}

/**
 * A toy detokenizer: token t is the letter `'a' + t`, except 7 and 8, the two halves of "é": 7 alone is pending
 * (pushed as `''`, flushed as `'?'`), 7 then 8 gives `'é'`. EOS gives `'</s>'`.
 */
function toyDetokenizer(): IncrementalDetokenizer {
  let pending = false;
  return {
    push(token) {
      if (token === 7) {
        pending = true;
        return '';
      }
      if (token === 8 && pending) {
        pending = false;
        return 'é';
      }
      const prefix = pending ? '?' : '';
      pending = false;
      return prefix + (token === EOS ? '</s>' : String.fromCharCode(97 + token));
    },
    flush() {
      const text = pending ? '?' : '';
      pending = false;
      return text;
    },
  };
}

async function collect(stream: AsyncIterable<GenerationDelta>): Promise<GenerationDelta[]> {
  const deltas: GenerationDelta[] = [];
  for await (const delta of stream) deltas.push(delta);
  return deltas;
}

describe('streamGeneration', () => {
  it('streams every token with its text as it is chosen, then resolves the same result as generate', async () => {
    const logits = saying([3, 7, 8, 4, EOS], 2);
    const stream = streamGeneration({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits }),
      inputIds: [[1, 5]],
      maxNewTokens: 10,
      eosTokenId: EOS,
      createDetokenizer: toyDetokenizer,
    });
    const deltas = await collect(stream);
    expect(deltas.map((delta) => delta.tokenId)).toEqual([3, 7, 8, 4, EOS]);
    expect(deltas.map((delta) => delta.text)).toEqual(['d', '', 'é', 'e', '</s>']);
    expect(deltas.map((delta) => delta.step)).toEqual([0, 1, 2, 3, 4]);
    expect(deltas.map((delta) => delta.finishReason)).toEqual([undefined, undefined, undefined, undefined, 'eos']);
    const result = await stream.result;
    expect(result.generatedIds).toEqual([[3, 7, 8, 4, EOS]]);
    expect(result.texts).toEqual(['dée</s>']);
    const direct = await generate({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits }),
      inputIds: [[1, 5]],
      maxNewTokens: 10,
      eosTokenId: EOS,
      createDetokenizer: toyDetokenizer,
    });
    expect(direct).toEqual(result);
  });

  it('interleaves the rows of a batch step by step and stops streaming a row once it has finished', async () => {
    // Row 0 (second token 5) says 3 EOS; row 1 (second token 6) says 4 4 4 EOS.
    const logits = (context: readonly number[]) =>
      (context[1] === 5 ? saying([3, EOS], 2) : saying([4, 4, 4, EOS], 2))(context);
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits });
    const deltas = await collect(
      streamGeneration({
        model,
        inputIds: [
          [1, 5],
          [1, 6],
        ],
        maxNewTokens: 10,
        eosTokenId: EOS,
        padTokenId: 0,
      }),
    );
    expect(deltas.map((delta) => [delta.sequence, delta.step, delta.tokenId])).toEqual([
      [0, 0, 3],
      [1, 0, 4],
      [0, 1, EOS],
      [1, 1, 4],
      [1, 2, 4],
      [1, 3, EOS],
    ]);
    expect(deltas.every((delta) => delta.text === '')).toBe(true);
  });

  it('stops the generation when the reader stops, releases the cache and resolves the tokens so far', async () => {
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) });
    const stream = streamGeneration({
      model,
      inputIds: [[1, 5]],
      maxNewTokens: 50,
      eosTokenId: null,
      createDetokenizer: toyDetokenizer,
    });
    const seen: number[] = [];
    for await (const delta of stream) {
      seen.push(delta.tokenId!);
      if (seen.length === 3) break;
    }
    const result = await stream.result;
    expect(result.finishReasons).toEqual(['abort']);
    expect(result.generatedIds[0]!.slice(0, 3)).toEqual(seen);
    expect(result.lengths[0]).toBe(result.generatedIds[0]!.length);
    expect(result.lengths[0]).toBeLessThan(50);
    expect(model.calls.forward).toBeLessThan(5);
    expect(model.liveCaches).toBe(0);
  });

  it('runs without a reader when only the result is awaited', async () => {
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: saying([3, 4, EOS], 2) });
    const stream = streamGeneration({ model, inputIds: [[1, 5]], maxNewTokens: 10, eosTokenId: EOS });
    expect((await stream.result).generatedIds).toEqual([[3, 4, EOS]]);
    expect(model.liveCaches).toBe(0);
  });

  it('can be iterated only once', async () => {
    const stream = streamGeneration({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) }),
      inputIds: [[1, 5]],
      maxNewTokens: 2,
      eosTokenId: null,
    });
    await collect(stream);
    try {
      stream[Symbol.asyncIterator]();
      expect.unreachable();
    } catch (error) {
      expect(VideoLlavaError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('rejects both the iteration and the result when the options are wrong', async () => {
    const stream = streamGeneration({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) }),
      inputIds: [[1, 5]],
      topP: 2,
    });
    await expect(collect(stream)).rejects.toSatisfy(
      (error) => VideoLlavaError.isInstance(error) && error.field === 'topP',
    );
    await expect(stream.result).rejects.toSatisfy(
      (error) => VideoLlavaError.isInstance(error) && error.code === 'INVALID_ARGUMENT',
    );
  });

  it('streams beam search results whole once the search has ended, best first', async () => {
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB, 3) });
    const stream = streamGeneration({
      model,
      inputIds: [[1, 5]],
      numBeams: 3,
      numReturnSequences: 2,
      maxNewTokens: 4,
      eosTokenId: null,
      createDetokenizer: toyDetokenizer,
    });
    const deltas = await collect(stream);
    const result = await stream.result;
    for (const sequence of [0, 1]) {
      const own = deltas.filter((delta) => delta.sequence === sequence);
      expect(own.map((delta) => delta.tokenId)).toEqual(result.generatedIds[sequence]);
      expect(own.map((delta) => delta.text).join('')).toBe(result.texts![sequence]);
      expect(own.at(-1)!.finishReason).toBe('length');
    }
  });
});

describe('abort', () => {
  it('resolves with the tokens so far and finish reason abort (greedy), releasing the cache', async () => {
    const controller = new AbortController();
    const logits = hashedLogits(VOCAB);
    const model = new MockLanguageModel({
      vocabSize: VOCAB,
      logits,
      // Abort while the 4th step runs: the model sees the aborted signal and rejects.
      beforeCall: (kind, index) => {
        if (kind === 'forward' && index === 3) controller.abort();
      },
    });
    const result = await generate({
      model,
      inputIds: [
        [1, 5],
        [1, 6],
      ],
      maxNewTokens: 30,
      eosTokenId: null,
      signal: controller.signal,
      createDetokenizer: toyDetokenizer,
    });
    expect(result.finishReasons).toEqual(['abort', 'abort']);
    // Tokens 1-4 were chosen from the prefill and three forward passes; the fourth forward never returned.
    expect(result.generatedIds.map((row) => row.length)).toEqual([4, 4]);
    expect(result.lengths).toEqual([4, 4]);
    const full = await generate({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits }),
      inputIds: [
        [1, 5],
        [1, 6],
      ],
      maxNewTokens: 4,
      eosTokenId: null,
    });
    expect(result.generatedIds).toEqual(full.generatedIds);
    expect(model.liveCaches).toBe(0);
  });

  it('returns nothing generated when the signal is aborted before the start, without running the model', async () => {
    const controller = new AbortController();
    controller.abort();
    const model = new MockLanguageModel({ vocabSize: VOCAB, logits: hashedLogits(VOCAB) });
    const result = await generate({
      model,
      inputIds: [[1, 5]],
      maxNewTokens: 5,
      eosTokenId: null,
      signal: controller.signal,
    });
    expect(result.generatedIds).toEqual([[]]);
    expect(result.lengths).toEqual([0]);
    expect(result.finishReasons).toEqual(['abort']);
    expect(model.calls.prefill).toBe(0);
  });

  it('keeps the finish reason of rows that ended before the abort, and closes the others with a delta', async () => {
    const controller = new AbortController();
    const logits = (context: readonly number[]) =>
      (context[1] === 5 ? saying([3, EOS], 2) : saying([4, 4, 4, 4, 4, 4], 2))(context);
    const model = new MockLanguageModel({
      vocabSize: VOCAB,
      logits,
      beforeCall: (kind, index) => {
        if (kind === 'forward' && index === 2) controller.abort();
      },
    });
    const deltas = await collect(
      streamGeneration({
        model,
        inputIds: [
          [1, 5],
          [1, 6],
        ],
        maxNewTokens: 30,
        eosTokenId: EOS,
        signal: controller.signal,
        createDetokenizer: toyDetokenizer,
      }),
    );
    const closing = deltas.at(-1)!;
    expect(closing).toEqual({ sequence: 1, step: 3, tokenId: undefined, text: '', finishReason: 'abort' });
    expect(
      deltas.filter((delta) => delta.finishReason !== undefined).map((delta) => [delta.sequence, delta.finishReason]),
    ).toEqual([
      [0, 'eos'],
      [1, 'abort'],
    ]);
    expect(model.liveCaches).toBe(0);
  });

  it('hands pending text over on the closing delta', async () => {
    const controller = new AbortController();
    const model = new MockLanguageModel({
      vocabSize: VOCAB,
      logits: saying([3, 7, 8], 2),
      beforeCall: (kind, index) => {
        if (kind === 'forward' && index === 1) controller.abort();
      },
    });
    const result = await generate({
      model,
      inputIds: [[1, 5]],
      maxNewTokens: 30,
      eosTokenId: EOS,
      signal: controller.signal,
      createDetokenizer: toyDetokenizer,
    });
    expect(result.generatedIds).toEqual([[3, 7]]);
    expect(result.texts).toEqual(['d?']);
  });

  it('beam search returns the best of what it has: finished hypotheses and the running beams at their length', async () => {
    const controller = new AbortController();
    const logits = hashedLogits(VOCAB, 3, 7);
    const model = new MockLanguageModel({
      vocabSize: VOCAB,
      logits,
      beforeCall: (kind, index) => {
        if (kind === 'forward' && index === 2) controller.abort();
      },
    });
    const result = await generate({
      model,
      inputIds: [[1, 5]],
      numBeams: 3,
      numReturnSequences: 3,
      maxNewTokens: 20,
      eosTokenId: null,
      signal: controller.signal,
    });
    // Three steps ran (prefill + 2 forwards); without EOS nothing finished, so the three running beams come back.
    expect(result.lengths).toEqual([3, 3, 3]);
    expect(result.finishReasons).toEqual(['abort', 'abort', 'abort']);
    // They are exactly what a full search of 3 new tokens returns (same scores: log-probability sum / 3).
    const full = await generate({
      model: new MockLanguageModel({ vocabSize: VOCAB, logits }),
      inputIds: [[1, 5]],
      numBeams: 3,
      numReturnSequences: 3,
      maxNewTokens: 3,
      eosTokenId: null,
    });
    expect(result.generatedIds).toEqual(full.generatedIds);
    expect(result.sequenceScores).toEqual(full.sequenceScores);
    expect(model.liveCaches).toBe(0);
  });
});
