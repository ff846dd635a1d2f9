import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { positionIdsFromAttentionMask } from './position-ids.js';

const mask = (rows: number[][]) =>
  new Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
const ids = (tensor: Tensor<'int64'>) => Array.from(tensor.data, Number);

describe('positionIdsFromAttentionMask', () => {
  it('is cumsum(mask) - 1 with padded positions set to 1, as transformers prepares them', () => {
    const result = positionIdsFromAttentionMask(
      mask([
        [0, 0, 1, 1, 1],
        [1, 1, 1, 1, 1],
      ]),
      5,
    );
    expect(result.dims).toEqual([2, 5]);
    expect(ids(result)).toEqual([1, 1, 0, 1, 2, 0, 1, 2, 3, 4]);
  });

  it('keeps only the last positions (the ones about to run after the cache)', () => {
    expect(
      ids(
        positionIdsFromAttentionMask(
          mask([
            [0, 1, 1, 1],
            [1, 1, 1, 1],
          ]),
          1,
        ),
      ),
    ).toEqual([2, 3]);
    expect(ids(positionIdsFromAttentionMask(mask([[0, 0, 1, 1, 1, 1]]), 3))).toEqual([1, 2, 3]);
  });
});
