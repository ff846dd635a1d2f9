import { type PretrainedConfig, loadPretrainedConfig } from '@video-llava/config';
import { DirectorySource } from '@video-llava/config/node';
import type { Backend, SessionOptions } from '@video-llava/runtime';
import { tinyFixture } from '@video-llava/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { withCacheOnWebGpu } from './cache-on-web-gpu.js';

function backend(defaultExecutionProviders: string[], deviceOutputs = true): Backend {
  return {
    name: 'fake',
    capabilities: {
      executionProviders: ['webgpu', 'wasm', 'cpu'],
      defaultExecutionProviders,
      filePaths: false,
      urls: true,
      deviceOutputs,
      memoryMapping: false,
      cache: false,
    },
    createSession: () => Promise.reject(new Error('not used')),
  };
}

describe('withCacheOnWebGpu', () => {
  let config: PretrainedConfig;
  let cacheOnDevice: Record<string, string>;
  beforeAll(async () => {
    config = await loadPretrainedConfig(new DirectorySource(tinyFixture.model));
    const layers = config.model.textConfig.numHiddenLayers;
    cacheOnDevice = Object.fromEntries(
      Array.from({ length: layers }, (_, layer) => [
        [`present.${layer}.key`, 'device'],
        [`present.${layer}.value`, 'device'],
      ]).flat(),
    );
  });

  it("keeps the decoder's present.* on the device when WebGPU is its first execution provider, and only the decoder's", () => {
    const options = withCacheOnWebGpu(undefined, backend(['webgpu', 'wasm']), config);
    expect(Object.keys(cacheOnDevice)).toHaveLength(2 * config.model.textConfig.numHiddenLayers);
    expect(options('decoder_model_merged')).toEqual({ outputLocation: cacheOnDevice });
    for (const part of ['embed_tokens', 'image_encoder', 'video_encoder'] as const)
      expect(options(part), part).toEqual({});
    const named = withCacheOnWebGpu(
      { executionProviders: [{ name: 'webgpu', preferredLayout: 'NHWC' }, 'wasm'], threads: 2 },
      backend(['wasm']),
      config,
    );
    expect(named('decoder_model_merged')).toEqual({
      executionProviders: [{ name: 'webgpu', preferredLayout: 'NHWC' }, 'wasm'],
      threads: 2,
      outputLocation: cacheOnDevice,
    });
  });

  it('leaves the options as they are on other providers, for an outputLocation given, and on a backend without device outputs', () => {
    expect(withCacheOnWebGpu(undefined, backend(['wasm']), config)('decoder_model_merged')).toEqual({});
    expect(
      withCacheOnWebGpu(
        { executionProviders: ['wasm', 'webgpu'] },
        backend(['webgpu', 'wasm']),
        config,
      )('decoder_model_merged'),
    ).toEqual({ executionProviders: ['wasm', 'webgpu'] });
    expect(withCacheOnWebGpu({ outputLocation: 'cpu' }, backend(['webgpu']), config)('decoder_model_merged')).toEqual({
      outputLocation: 'cpu',
    });
    expect(withCacheOnWebGpu(undefined, backend(['webgpu'], false), config)('decoder_model_merged')).toEqual({});
  });

  it('reads per-part options from a function', () => {
    const perPart = (part: string): SessionOptions =>
      part === 'decoder_model_merged' ? { executionProviders: ['webgpu'] } : { executionProviders: ['wasm'] };
    const options = withCacheOnWebGpu(perPart, backend(['wasm']), config);
    expect(options('decoder_model_merged')).toEqual({ executionProviders: ['webgpu'], outputLocation: cacheOnDevice });
    expect(options('video_encoder')).toEqual({ executionProviders: ['wasm'] });
  });
});
