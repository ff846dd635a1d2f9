import { describe, expect, it } from 'vitest';
import { padSequences } from './pad-sequences.js';

describe('padSequences', () => {
  it('pads on the left or the right with the pad id and masks the padding', () => {
    const left = padSequences([[5, 6, 7], [8]], { padding: true, padTokenId: 0, paddingSide: 'left' });
    expect(left.inputIds.dims).toEqual([2, 3]);
    expect(Array.from(left.inputIds.data)).toEqual([5n, 6n, 7n, 0n, 0n, 8n]);
    expect(Array.from(left.attentionMask.data)).toEqual([1n, 1n, 1n, 0n, 0n, 1n]);
    const right = padSequences([[5, 6, 7], [8]], { padding: 'longest', padTokenId: 9, paddingSide: 'right' });
    expect(Array.from(right.inputIds.data)).toEqual([5n, 6n, 7n, 8n, 9n, 9n]);
  });

  it('needs a pad token only when padding is needed', () => {
    expect(padSequences([[1, 2]], { padding: true, padTokenId: null, paddingSide: 'left' }).inputIds.dims).toEqual([
      1, 2,
    ]);
    expect(() => padSequences([[1, 2], [3]], { padding: true, padTokenId: null, paddingSide: 'left' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG', field: 'pad_token' }),
    );
  });

  it('checks maxLength', () => {
    expect(() => padSequences([[1]], { padding: 'max_length', padTokenId: 0, paddingSide: 'left' })).toThrowError(
      expect.objectContaining({ field: 'maxLength' }),
    );
  });
});
