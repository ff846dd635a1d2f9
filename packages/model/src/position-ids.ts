import { Tensor } from '@video-llava/core';

/**
 * Position ids as transformers' `generate` makes them for a left-padded batch: `cumsum(attention_mask) - 1`, with
 * padded positions set to 1 (`position_ids.masked_fill_(attention_mask == 0, 1)`), keeping only the last `length`
 * positions (the tokens about to run; the earlier ones are in the cache).
 *
 * @param attentionMask int64 `[rows, total]` over the cached and the new positions
 * @param length how many of the last positions to return
 * @returns int64 `[rows, length]`
 */
export function positionIdsFromAttentionMask(attentionMask: Tensor<'int64'>, length: number): Tensor<'int64'> {
  const [rows, total] = attentionMask.dims as [number, number];
  const out = new BigInt64Array(rows * length);
  for (let row = 0; row < rows; row++) {
    let sum = 0n;
    for (let position = 0; position < total; position++) {
      const mask = attentionMask.data[row * total + position]!;
      sum += mask;
      const column = position - (total - length);
      if (column >= 0) out[row * length + column] = mask === 0n ? 1n : sum - 1n;
    }
  }
  return new Tensor('int64', out, [rows, length]);
}
