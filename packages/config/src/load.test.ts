import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyFixture } from '@video-llava/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { v4Fixture } from '../test/fixture-paths.js';
import { DirectorySource, loadPretrainedConfigFrom } from './node.js';
import { loadPretrainedConfig } from './load.js';

describe('loadPretrainedConfig from a folder', () => {
  it('derives the reference token counts on the tiny fixture (v5 layout)', async () => {
    const cases =
      tinyFixture.json<
        { name: string; n_image_tokens: number; n_video_tokens: number; images: string[]; videos: number }[]
      >('cases.json');
    const image = cases.find((entry) => entry.name === 'image')!;
    const video = cases.find((entry) => entry.name === 'video')!;
    const config = await loadPretrainedConfigFrom(tinyFixture.model);
    expect(config.processor.layout).toBe('v5');
    // what transformers' processor put into input_ids for one image and one video
    expect(config.derived.tokensPerImage).toBe(image.n_image_tokens / image.images.length);
    expect(config.derived.tokensPerVideo).toBe(video.n_video_tokens / video.videos);
    expect(config.derived.tokensPerFrame).toBe(config.derived.tokensPerVideo / config.derived.framesPerVideo);
    expect([config.derived.tokensPerImage, config.derived.tokensPerFrame, config.derived.tokensPerVideo]).toEqual([
      256, 257, 2056,
    ]);
    expect(config.model.storedDtype).toBe('float16');
    expect(config.generation.maxLength).toBe(20);
  });

  it('reads the v4-layout copy of LanguageBind/Video-LLaVA-7B-hf: 256 / 257 / 2056, video settings = image settings', async () => {
    const config = await loadPretrainedConfigFrom(v4Fixture);
    expect(config.processor.layout).toBe('v4');
    expect(config.derived).toMatchObject({
      headDim: 128,
      patchesPerSide: 16,
      numPatches: 256,
      tokensPerImage: 256,
      tokensPerFrame: 257,
      framesPerVideo: 8,
      tokensPerVideo: 2056,
      storedDtype: 'float16',
    });
    const {
      doSampleFrames: _doSampleFrames,
      numFrames: _numFrames,
      fps: _fps,
      ...videoVision
    } = config.processor.videoProcessor;
    expect(videoVision).toEqual(config.processor.imageProcessor);
    // the processors' settings name the file they came from by its full path, as errors do
    expect(config.processor.imageProcessor.origin).toEqual({
      file: join(v4Fixture, 'preprocessor_config.json'),
      fieldPrefix: '',
    });
    expect(config.generation.eosTokenId).toEqual([2]);
  });

  it('reports a read as progress', async () => {
    const events: number[] = [];
    await loadPretrainedConfig(new DirectorySource(v4Fixture), { onProgress: (event) => events.push(event.done) });
    expect(events.length).toBeGreaterThan(0);
  });
});

describe('loadPretrainedConfig errors name the file and the field', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'video-llava-config-'));
    await cp(v4Fixture, folder, { recursive: true });
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('missing config.json', async () => {
    await rm(join(folder, 'config.json'));
    const error = await catchError(() => loadPretrainedConfigFrom(folder));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(join(folder, 'config.json'));
    expect(error.field).toBe('config.json');
    expect(error.message).toContain(join(folder, 'config.json'));
  });

  it('a missing model folder is reported as a missing folder, a file as not a folder', async () => {
    const missing = join(folder, 'no-such-model');
    const error = await catchError(() => loadPretrainedConfigFrom(missing));
    expect(error).toMatchObject({ code: 'FILE_NOT_FOUND', file: missing, actual: 'missing' });
    expect(error.message).toContain(`${missing}: no such model folder`);
    const file = join(folder, 'config.json');
    const notFolder = await catchError(() => loadPretrainedConfig(new DirectorySource(file)));
    expect(notFolder).toMatchObject({ code: 'FILE_NOT_FOUND', file, actual: 'a file' });
  });

  it('missing processor settings', async () => {
    await rm(join(folder, 'preprocessor_config.json'));
    const error = await catchError(() => loadPretrainedConfigFrom(folder));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain('preprocessor_config.json');
    expect(error.field).toBe('image_processor');
  });

  it('invalid JSON', async () => {
    await writeFile(join(folder, 'generation_config.json'), '{\n  "eos_token_id": 2,\n}\n');
    const error = await catchError(() => loadPretrainedConfigFrom(folder));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.file).toBe(join(folder, 'generation_config.json'));
    expect(error.message).toContain(join(folder, 'generation_config.json'));
    expect(error.message).toMatch(/line 3/);
  });

  it('wrong type, with the full path of the file', async () => {
    const json = JSON.parse(await (await import('node:fs/promises')).readFile(join(folder, 'config.json'), 'utf8'));
    json.vision_config.num_hidden_layers = 24.5;
    await writeFile(join(folder, 'config.json'), JSON.stringify(json));
    const error = await catchError(() => loadPretrainedConfigFrom(folder));
    expect([error.code, error.file, error.field]).toEqual([
      'INVALID_CONFIG',
      join(folder, 'config.json'),
      'vision_config.num_hidden_layers',
    ]);
    expect(error.message).toContain(join(folder, 'config.json'));
    expect(error.message).toContain('vision_config.num_hidden_layers');
    expect(error.message).toContain('24.5');
  });

  it('out-of-range value in the v4 preprocessor file', async () => {
    await writeFile(join(folder, 'preprocessor_config.json'), JSON.stringify({ crop_size: { height: 0, width: 224 } }));
    const error = await catchError(() => loadPretrainedConfigFrom(folder));
    expect([error.code, error.file, error.field]).toEqual([
      'INVALID_CONFIG',
      join(folder, 'preprocessor_config.json'),
      'crop_size.height',
    ]);
    expect(error.message).toContain(join(folder, 'preprocessor_config.json'));
  });

  it('a path that leaves the folder', async () => {
    const error = await catchError(() => new DirectorySource(folder).readBytes('../secret.json'));
    expect([error.code, error.field]).toEqual(['INVALID_ARGUMENT', 'path']);
  });
});
