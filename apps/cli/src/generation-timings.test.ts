import { describe, expect, it } from 'vitest';
import { recordGenerationTimings } from './generation-timings.js';

describe('recordGenerationTimings', () => {
  it('splits an answer at the progress events, in the order the library sends them', () => {
    let clock = 1000;
    const timings = recordGenerationTimings(250, () => clock);
    // the request starts at 1000; the video is decoded until 1300
    clock = 1100;
    timings.onProgress({ stage: 'decode-video', done: 0, total: 1, unit: 'items' });
    clock = 1300;
    timings.onProgress({ stage: 'decode-video', done: 1, total: 1, unit: 'items' });
    // the prefill is announced, then runs the encoder first (1310 to 1410), then the decoder until 1600
    clock = 1305;
    timings.onProgress({ stage: 'prefill', done: 0, total: 100, unit: 'tokens' });
    clock = 1310;
    timings.onProgress({ stage: 'encode', done: 0, total: 1, unit: 'items' });
    clock = 1410;
    timings.onProgress({ stage: 'encode', done: 1, total: 1, unit: 'items' });
    clock = 1600;
    timings.onProgress({ stage: 'prefill', done: 100, total: 100, unit: 'tokens' });
    // three tokens: the first from the prefill's logits, then two decoder steps of 50 and 70 ms
    for (const [time, done] of [
      [1601, 1],
      [1651, 2],
      [1721, 3],
    ] as const) {
      clock = time;
      timings.onProgress({ stage: 'decode', done, total: 10, unit: 'tokens' });
    }
    clock = 1730;
    expect(timings.finish()).toEqual({
      load: 250,
      mediaDecode: 305,
      encode: 100,
      prefill: 190,
      decodePerToken: 60,
      decode: 121,
    });
  });

  it('gives no per-token figure for one token, and no encode time without media', () => {
    let clock = 0;
    const timings = recordGenerationTimings(0, () => clock);
    clock = 5;
    timings.onProgress({ stage: 'prefill', done: 0, total: 10, unit: 'tokens' });
    clock = 25;
    timings.onProgress({ stage: 'prefill', done: 10, total: 10, unit: 'tokens' });
    clock = 26;
    timings.onProgress({ stage: 'decode', done: 1, total: 1, unit: 'tokens' });
    expect(timings.finish()).toEqual({
      load: 0,
      mediaDecode: 5,
      encode: 0,
      prefill: 20,
      decodePerToken: null,
      decode: 1,
    });
  });
});
