import { DirectorySource } from '@video-llava/config/node';
import { Tensor as CoreTensor } from '@video-llava/core';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertedFixture } from '../test/converted-fixture.js';
import { type DataType, Tensor, VideoLlava } from './web.js';

// The browser entry, run in Node: onnxruntime-web (WebAssembly) reads the converted fixture from disk. Media come as
// pixel values (decoding videos needs WebCodecs, in a browser). Token ids are compared exactly.
describe('video-llava/web on the converted fixture (onnxruntime-web, WebAssembly)', () => {
  let model: VideoLlava;
  beforeAll(async () => {
    model = await VideoLlava.load(new DirectorySource(await convertedFixture()), { prefixCache: false });
  });
  afterAll(async () => {
    await model.release();
  });

  it('runs on onnxruntime-web', () => {
    expect(VideoLlava.platform.name).toBe('web');
    expect(VideoLlava.platform.createBackend().name).toBe('onnxruntime-web');
  });

  it.each(['text_only', 'image'])('%s: the reference greedy tokens', async (name) => {
    const fixtureCase = fixtureCases().find((candidate) => candidate.name === name)!;
    // Built with the Tensor the entry exports, as an application without @video-llava/core would.
    const images = fixtureCase.images.map((image) => {
      const values = tinyFixture.npy('pixel_values', `${image}.npy`);
      return new Tensor('float32', values.data as Float32Array, values.dims);
    });
    const answer = await model.generate({ prompt: fixtureCase.text[0]!, images, maxNewTokens: 24, doSample: false });
    expect(answer.ids).toEqual(
      Array.from(tinyFixture.npy(`case_${name}`, 'generated_ids.npy').data as BigInt64Array, Number),
    );
  });

  it('exports the Tensor of @video-llava/core and its dtype type', () => {
    expect(Tensor).toBe(CoreTensor);
    const dtype: DataType = 'float32';
    expect(new Tensor(dtype, new Float32Array(6), [2, 3]).dims).toEqual([2, 3]);
  });

  it('resolves a model name without a page to resolve it against with a clear error', async () => {
    await expect(VideoLlava.load('./some-folder')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'source' });
  });
});
