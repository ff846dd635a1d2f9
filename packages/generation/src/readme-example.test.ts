import { describe, expect, it } from 'vitest';
import type { CausalLanguageModel } from './causal-language-model.js';
import { generate, streamGeneration } from './generate.js';

// The README's toy bigram model, kept here so that the example stays true.
const vocabSize = 8;
const bigram = (last: number) =>
  Float32Array.from({ length: vocabSize }, (_, token) => (token === (last === 5 ? 2 : (last + 1) % vocabSize) ? 5 : 0));
type Cache = number[];
const lastOf = (ids: BigInt64Array, rows: number): Cache =>
  Array.from({ length: rows }, (_, row) => Number(ids[(row + 1) * (ids.length / rows) - 1]));
const logitsOf = (cache: Cache) => {
  const logits = new Float32Array(cache.length * vocabSize);
  cache.forEach((last, row) => logits.set(bigram(last), row * vocabSize));
  return logits;
};
const model: CausalLanguageModel<Cache> = {
  vocabSize,
  async prefill({ inputIds }) {
    const cache = lastOf(inputIds.data, inputIds.dims[0]!);
    return { logits: logitsOf(cache), cache };
  },
  async forward({ inputIds }) {
    const cache = lastOf(inputIds.data, inputIds.dims[0]!);
    return { logits: logitsOf(cache), cache };
  },
  async selectCacheRows(cache, rowIndices) {
    return Array.from(rowIndices, (row) => cache[row]!);
  },
};

describe('the README example', () => {
  it('generates what the README says, and its other calls run', async () => {
    const result = await generate({ model, inputIds: [[1, 3]], maxNewTokens: 10, eosTokenId: 2 });
    expect(result.generatedIds).toEqual([[4, 5, 2]]);
    expect(result.finishReasons).toEqual(['eos']);
    const sampled = await generate({
      model,
      inputIds: [[1, 3]],
      doSample: true,
      temperature: 0.7,
      topP: 0.9,
      seed: 42,
      maxNewTokens: 10,
    });
    expect(sampled.generatedIds[0]).toHaveLength(10);
    const beams = await generate({
      model,
      inputIds: [[1, 3]],
      numBeams: 3,
      lengthPenalty: 0.5,
      numReturnSequences: 2,
      maxNewTokens: 10,
    });
    expect(beams.generatedIds).toHaveLength(2);
    const stream = streamGeneration({ model, inputIds: [[1, 3]], maxNewTokens: 10, signal: AbortSignal.timeout(5000) });
    const tokens: (number | undefined)[] = [];
    for await (const delta of stream) tokens.push(delta.tokenId);
    expect((await stream.result).generatedIds).toEqual([tokens]);
  });
});
