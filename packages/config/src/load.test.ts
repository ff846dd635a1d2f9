import { tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { loadPretrainedConfigFrom } from './node.js';

describe('loadPretrainedConfig on the tiny fixture (v5 layout)', () => {
  it('derives the reference token counts', async () => {
    const config = await loadPretrainedConfigFrom(tinyFixture.model);
    expect(config.processor.layout).toBe('v5');
    expect(config.derived.tokensPerImage).toBe(256);
    expect(config.derived.tokensPerFrame).toBe(257);
    expect(config.derived.tokensPerVideo).toBe(2056);
    expect(config.model.textConfig.rope.ropeTheta).toBe(10000);
    expect(config.model.textConfig.headDim).toBe(16);
    expect(config.model.storedDtype).toBe('float16');
    expect(config.generation.eosTokenId).toEqual([2]);
    expect(config.generation.maxLength).toBe(20);
  });
});
