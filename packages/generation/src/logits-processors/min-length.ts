import type { LogitsProcessor } from './logits-processor.js';

/**
 * transformers' `MinLengthLogitsProcessor`: while a row (prompt included) is shorter than `minLength`, its
 * end-of-sequence tokens get `-Infinity`.
 */
export class MinLengthLogitsProcessor implements LogitsProcessor {
  readonly name = 'min length';

  /**
   * @param minLength total length (prompt included) below which EOS is masked
   * @param eosTokenIds the end-of-sequence ids
   */
  constructor(
    private readonly minLength: number,
    private readonly eosTokenIds: readonly number[],
  ) {}

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    if (rows === 0 || inputIds[0]!.length >= this.minLength) return;
    maskTokens(scores, rows, this.eosTokenIds);
  }
}

/**
 * transformers' `MinNewTokensLengthLogitsProcessor`: while fewer than `minNewTokens` tokens follow the prompt, the
 * end-of-sequence tokens get `-Infinity`.
 */
export class MinNewTokensLengthLogitsProcessor implements LogitsProcessor {
  readonly name = 'min new tokens';

  /**
   * @param promptLength the (padded) prompt length, skipped when counting
   * @param minNewTokens new tokens below which EOS is masked
   * @param eosTokenIds the end-of-sequence ids
   */
  constructor(
    private readonly promptLength: number,
    private readonly minNewTokens: number,
    private readonly eosTokenIds: readonly number[],
  ) {}

  process(inputIds: readonly Int32Array[], scores: Float32Array): void {
    const rows = inputIds.length;
    if (rows === 0 || inputIds[0]!.length - this.promptLength >= this.minNewTokens) return;
    maskTokens(scores, rows, this.eosTokenIds);
  }
}

function maskTokens(scores: Float32Array, rows: number, tokens: readonly number[]): void {
  const vocabSize = scores.length / rows;
  for (let row = 0; row < rows; row++) {
    for (const token of tokens) if (token >= 0 && token < vocabSize) scores[row * vocabSize + token] = -Infinity;
  }
}
