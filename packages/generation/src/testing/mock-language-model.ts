import { type Tensor, VideoLlavaError } from '@video-llava/core';
import type {
  CausalLanguageModel,
  LanguageModelInput,
  LanguageModelOutput,
  LanguageModelStepInput,
} from '../causal-language-model.js';

/** The cache of a {@link MockLanguageModel}: each row's real tokens so far. */
export interface MockCache {
  readonly id: number;
  /** Real (unpadded) tokens seen per row. */
  readonly rows: readonly (readonly number[])[];
  /** Positions held per row (padding included), as the attention mask must cover. */
  readonly length: number;
}

/** What a {@link MockLanguageModel} is built from. */
export interface MockLanguageModelOptions {
  /** Width of the logits. */
  vocabSize: number;
  /** The next-token logits after `context` (a row's real tokens so far, padding left out). */
  logits: (context: readonly number[]) => ArrayLike<number>;
  /**
   * Whether the mock implements `selectCacheRows` (needed for beam search).
   * @default true
   */
  selectCacheRows?: boolean;
  /** Reported as `maxPositionEmbeddings`. */
  maxPositionEmbeddings?: number;
  /** Runs before every call (e.g. to abort a signal at a chosen step in a test). */
  beforeCall?: (kind: 'prefill' | 'forward' | 'selectCacheRows', callIndex: number) => void | Promise<void>;
}

function fail(message: string): never {
  throw new VideoLlavaError('RUNTIME_ERROR', `MockLanguageModel: ${message}`);
}

function rowsOf(tensor: Tensor<'int64'>): number[][] {
  const [rows, length] = tensor.dims as [number, number];
  return Array.from({ length: rows }, (_, row) =>
    Array.from(tensor.data.subarray(row * length, (row + 1) * length), Number),
  );
}

/**
 * A deterministic causal LM for tests: logits come from a function of each row's real tokens, and every call is
 * checked against the `CausalLanguageModel` contract (shapes, attention mask covering the cache, transformers'
 * position ids, caches used once and released once). Counts calls and tokens so tests can assert on them.
 */
export class MockLanguageModel implements CausalLanguageModel<MockCache> {
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number | undefined;
  /** Calls so far, by kind. */
  readonly calls = { prefill: 0, forward: 0, selectCacheRows: 0, releaseCache: 0 };
  /** Prompt tokens run by `prefill` (rows times length). */
  prefillTokens = 0;
  /** Every `selectCacheRows` argument, in order. */
  readonly selections: Int32Array[] = [];
  selectCacheRows?: (cache: MockCache, rowIndices: Int32Array, signal?: AbortSignal) => Promise<MockCache>;
  private readonly logitsFor: (context: readonly number[]) => ArrayLike<number>;
  private readonly beforeCall: MockLanguageModelOptions['beforeCall'];
  private readonly live = new Set<number>();
  private nextId = 1;

  constructor(options: MockLanguageModelOptions) {
    this.vocabSize = options.vocabSize;
    this.maxPositionEmbeddings = options.maxPositionEmbeddings;
    this.logitsFor = options.logits;
    this.beforeCall = options.beforeCall;
    if (options.selectCacheRows !== false)
      this.selectCacheRows = (cache, rowIndices, signal) => this.select(cache, rowIndices, signal);
  }

  /** Caches handed out and not yet consumed or released. */
  get liveCaches(): number {
    return this.live.size;
  }

  private issue(rows: number[][], length: number): MockCache {
    const cache = { id: this.nextId++, rows, length };
    this.live.add(cache.id);
    return cache;
  }

  private consume(cache: MockCache, by: string): void {
    if (!this.live.delete(cache.id)) fail(`${by} received cache ${cache.id}, which was already consumed or released.`);
  }

  private compute(rows: readonly (readonly number[])[]): Float32Array {
    const logits = new Float32Array(rows.length * this.vocabSize);
    rows.forEach((context, row) => {
      const values = this.logitsFor(context);
      if (values.length !== this.vocabSize)
        fail(`the logits function returned ${values.length} values, not ${this.vocabSize}.`);
      logits.set(values as ArrayLike<number>, row * this.vocabSize);
    });
    return logits;
  }

  private checkPositions(input: LanguageModelInput, maskRows: number[][]): void {
    const positions = rowsOf(input.positionIds);
    const newLength = input.inputIds.dims[1]!;
    maskRows.forEach((mask, row) => {
      let count = 0;
      const expected = mask.map((value) => {
        count += value;
        return value ? count - 1 : 1;
      });
      const tail = expected.slice(expected.length - newLength);
      if (tail.join() !== positions[row]!.join())
        fail(`row ${row}: positionIds [${positions[row]}] should be [${tail}].`);
    });
  }

  async prefill(input: LanguageModelInput): Promise<LanguageModelOutput<MockCache>> {
    await this.beforeCall?.('prefill', this.calls.prefill);
    this.calls.prefill++;
    if (input.signal?.aborted) throw new Error('aborted');
    const ids = rowsOf(input.inputIds);
    const mask = rowsOf(input.attentionMask);
    if (input.attentionMask.dims.join() !== input.inputIds.dims.join())
      fail('prefill attentionMask must have the shape of inputIds.');
    this.checkPositions(input, mask);
    this.prefillTokens += ids.length * (ids[0]?.length ?? 0);
    const rows = ids.map((row, index) => row.filter((_, position) => mask[index]![position] === 1));
    return { logits: this.compute(rows), cache: this.issue(rows, ids[0]!.length) };
  }

  async forward(input: LanguageModelStepInput<MockCache>): Promise<LanguageModelOutput<MockCache>> {
    await this.beforeCall?.('forward', this.calls.forward);
    this.calls.forward++;
    this.consume(input.cache, 'forward');
    if (input.signal?.aborted) throw new Error('aborted');
    const ids = rowsOf(input.inputIds);
    const mask = rowsOf(input.attentionMask);
    const cache = input.cache;
    if (ids.length !== cache.rows.length) fail(`forward got ${ids.length} rows for a cache of ${cache.rows.length}.`);
    if (mask[0]!.length !== cache.length + ids[0]!.length)
      fail(
        `forward attentionMask covers ${mask[0]!.length} positions; the cache holds ${cache.length} plus ${ids[0]!.length} new.`,
      );
    if (mask.some((row) => row[row.length - 1] !== 1)) fail('a new token is masked out.');
    this.checkPositions(input, mask);
    const rows = cache.rows.map((row, index) => [...row, ...ids[index]!]);
    return { logits: this.compute(rows), cache: this.issue(rows, cache.length + ids[0]!.length) };
  }

  private async select(cache: MockCache, rowIndices: Int32Array, signal?: AbortSignal): Promise<MockCache> {
    await this.beforeCall?.('selectCacheRows', this.calls.selectCacheRows);
    this.calls.selectCacheRows++;
    this.consume(cache, 'selectCacheRows');
    if (signal?.aborted) throw new Error('aborted');
    this.selections.push(rowIndices.slice());
    const rows = Array.from(rowIndices, (index) => {
      if (index < 0 || index >= cache.rows.length)
        fail(`selectCacheRows index ${index} is outside [0, ${cache.rows.length}).`);
      return [...cache.rows[index]!];
    });
    return this.issue(rows, cache.length);
  }

  async releaseCache(cache: MockCache): Promise<void> {
    this.calls.releaseCache++;
    this.consume(cache, 'releaseCache');
  }
}

/**
 * Deterministic pseudo-random logits from a hash of the context (FNV-1a over the token ids, then xorshift32),
 * uniform in `[-scale, scale)` and exactly representable in float32: a stand-in for a real model whose outputs
 * depend on everything before.
 *
 * @default scale 4
 * @default salt 0
 */
export function hashedLogits(vocabSize: number, scale = 4, salt = 0): (context: readonly number[]) => Float32Array {
  return (context) => {
    let hash = (0x811c9dc5 ^ salt) >>> 0;
    for (const token of context) {
      hash = Math.imul(hash ^ (token & 0xffff), 0x01000193) >>> 0;
      hash = Math.imul(hash ^ (token >>> 16), 0x01000193) >>> 0;
    }
    let state = hash || 1;
    const logits = new Float32Array(vocabSize);
    for (let index = 0; index < vocabSize; index++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      logits[index] = ((state / 4294967296) * 2 - 1) * scale;
    }
    return logits;
  };
}
