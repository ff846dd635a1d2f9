import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { emptyCache } from './kv-cache.js';
import { type PrefixCacheEntry, matchPrefix } from './prefix-cache.js';

const counts = { imageTokenId: 7, videoTokenId: 8, tokensPerImage: 2, tokensPerVideo: 3 };
const video = (value: number) => new Tensor('float32', new Float32Array(6).fill(value), [1, 6]);

function entry(tokens: number[], videoValue?: number): PrefixCacheEntry {
  return {
    tokens: Int32Array.from(tokens),
    cache: emptyCache([], {}, 1, 1, 1),
    pixelValuesImages: undefined,
    pixelValuesVideos: videoValue === undefined ? undefined : video(videoValue),
  };
}

const ids = (values: number[]) => BigInt64Array.from(values, BigInt);

describe('matchPrefix', () => {
  it('takes the common ids and counts the media inside them', () => {
    const cached = entry([1, 8, 8, 8, 5, 6], 0.5);
    expect(matchPrefix(cached, ids([1, 8, 8, 8, 5, 6, 9, 10]), { pixelValuesVideos: video(0.5) }, counts)).toEqual({
      length: 6,
      images: 0,
      videos: 1,
    });
  });

  it('always leaves the last prompt token to run (its logits start the answer)', () => {
    const cached = entry([1, 5, 6, 7]);
    expect(matchPrefix(cached, ids([1, 5, 6]), {}, counts).length).toBe(2);
  });

  it('stops before a video whose pixels changed, and before a video the prefix would cut', () => {
    const cached = entry([1, 8, 8, 8, 5], 0.5);
    expect(matchPrefix(cached, ids([1, 8, 8, 8, 5, 6]), { pixelValuesVideos: video(0.25) }, counts)).toEqual({
      length: 1,
      images: 0,
      videos: 0,
    });
    const cut = entry([1, 8, 8, 9], 0.5);
    expect(matchPrefix(cut, ids([1, 8, 8, 8, 5]), { pixelValuesVideos: video(0.5) }, counts)).toEqual({
      length: 1,
      images: 0,
      videos: 0,
    });
  });

  it('matches nothing when the first ids differ', () => {
    expect(matchPrefix(entry([2, 5]), ids([1, 5, 6]), {}, counts).length).toBe(0);
  });
});
