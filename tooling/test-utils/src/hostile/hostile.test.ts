import { VideoLlavaError } from '@video-llava/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_FUZZ_SEED,
  FUZZ_RUNS_VARIABLE,
  FUZZ_SEED_VARIABLE,
  fc,
  hostileParameters,
  mutatedBytes,
  mutatedJson,
  parsesOrFailsCleanly,
  parsesOrFailsCleanlyAsync,
} from './index.js';

// The checks the hostile-input suites rely on must themselves fail when they should.

afterEach(() => {
  delete process.env[FUZZ_RUNS_VARIABLE];
  delete process.env[FUZZ_SEED_VARIABLE];
});

describe('parsesOrFailsCleanly', () => {
  it('passes values and VideoLlavaErrors of known codes through', () => {
    expect(parsesOrFailsCleanly('ok', () => 3)).toEqual({ ok: true, value: 3 });
    const outcome = parsesOrFailsCleanly('bad', () => {
      throw new VideoLlavaError('INVALID_FILE', 'bad file');
    });
    expect(outcome.ok === false && outcome.error.code).toBe('INVALID_FILE');
  });

  it('fails on any other exception, an unknown code, or a hang', async () => {
    expect(() =>
      parsesOrFailsCleanly('typeerror', () => {
        throw new TypeError('x is undefined');
      }),
    ).toThrow(/typeerror threw something other than a VideoLlavaError: TypeError: x is undefined/);
    expect(() =>
      parsesOrFailsCleanly('code', () => {
        throw new VideoLlavaError('MADE_UP', 'm');
      }),
    ).toThrow(/unknown code MADE_UP/);
    await expect(parsesOrFailsCleanlyAsync('rejects', () => Promise.reject(new RangeError('r')))).rejects.toThrow(
      /RangeError: r/,
    );
    expect(() =>
      parsesOrFailsCleanly('slow', () => {
        const end = performance.now() + 2100;
        while (performance.now() < end);
      }),
    ).toThrow(/a hang/);
  });
});

describe('settings and arbitraries', () => {
  it('a fixed seed by default; the environment variables override seed and runs', () => {
    expect(hostileParameters(50)).toMatchObject({ seed: DEFAULT_FUZZ_SEED, numRuns: 50 });
    process.env[FUZZ_RUNS_VARIABLE] = '7';
    process.env[FUZZ_SEED_VARIABLE] = '42';
    expect(hostileParameters(50)).toMatchObject({ seed: 42, numRuns: 7 });
  });

  it('mutations change the input, deterministically for a seed', () => {
    const valid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const first = fc.sample(mutatedBytes(valid), { seed: 1, numRuns: 20 });
    expect(fc.sample(mutatedBytes(valid), { seed: 1, numRuns: 20 })).toEqual(first);
    expect(
      first.some((bytes) => bytes.length !== valid.length || bytes.some((byte, index) => byte !== valid[index])),
    ).toBe(true);
    const json = fc.sample(mutatedJson({ a: 1, b: [2, 3] }), { seed: 1, numRuns: 20 });
    expect(json.some((value) => JSON.stringify(value) !== '{"a":1,"b":[2,3]}')).toBe(true);
  });
});
