import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_NEW_TOKENS, readSettings } from './settings.js';

describe('readSettings', () => {
  it('reads model, device, greedy and max_new_tokens from the address', () => {
    expect(readSettings('?model=/models/tiny/&device=webgpu&greedy=1&max_new_tokens=24&threads=2')).toEqual({
      model: '/models/tiny/',
      device: 'webgpu',
      greedy: true,
      maxNewTokens: 24,
      threads: 2,
      problems: [],
    });
    expect(readSettings('?device=wasm&greedy=true')).toMatchObject({ device: 'wasm', greedy: true });
  });

  it('defaults to choosing the device, sampling as the model says, and 256 tokens', () => {
    expect(readSettings('')).toEqual({
      model: undefined,
      device: undefined,
      greedy: false,
      maxNewTokens: DEFAULT_MAX_NEW_TOKENS,
      threads: undefined,
      problems: [],
    });
    expect(readSettings('?greedy=0').greedy).toBe(false);
  });

  it('says what it did not understand, and keeps the default', () => {
    const settings = readSettings('?device=cuda&max_new_tokens=-3&threads=x');
    expect(settings.device).toBeUndefined();
    expect(settings.maxNewTokens).toBe(DEFAULT_MAX_NEW_TOKENS);
    expect(settings.problems).toEqual([
      'device=cuda is not wasm or webgpu; choosing automatically.',
      `max_new_tokens=-3 is not a positive integer; using ${DEFAULT_MAX_NEW_TOKENS}.`,
      'threads=x is not a positive integer; letting onnxruntime-web choose.',
    ]);
  });
});
