import { tinyFixture } from '@video-llava/test-utils';
import { describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { edited, tinyJson, v4Json } from '../test/fixture-paths.js';
import { deriveValues } from './derived.js';
import { parseModelConfig } from './model-config.js';
import { parseProcessorConfig } from './processor-config.js';

type Json = Record<string, any>;

describe('parseProcessorConfig', () => {
  it('reads the v5 layout (nested image_processor and video_processor) like the reference saved it', () => {
    const processor = parseProcessorConfig(
      { processorConfig: tinyJson('processor_config.json') },
      parseModelConfig(tinyJson('config.json')),
    );
    const image = tinyFixture.json<Json>('image_processor_config', 'preprocessor_config.json');
    const video = tinyFixture.json<Json>('video_processor_config', 'video_preprocessor_config.json');
    expect(processor.layout).toBe('v5');
    expect(processor.imageProcessor).toMatchObject({
      size: { shortestEdge: image.size.shortest_edge },
      resample: image.resample,
      cropSize: image.crop_size,
      rescaleFactor: image.rescale_factor,
      imageMean: image.image_mean,
      imageStd: image.image_std,
    });
    expect(processor.videoProcessor).toMatchObject({
      size: { shortestEdge: video.size.shortest_edge },
      cropSize: video.crop_size,
      doSampleFrames: video.do_sample_frames,
      imageStd: video.image_std,
    });
    expect(processor.patchSize).toBe(14);
    expect(processor.numAdditionalImageTokens).toBe(1);
  });

  it('reads the v4 layout: the video settings fall back to the image ones', () => {
    const processor = parseProcessorConfig(
      { preprocessorConfig: v4Json('preprocessor_config.json') },
      parseModelConfig(v4Json('config.json')),
    );
    expect(processor.layout).toBe('v4');
    const { doSampleFrames, numFrames, fps, ...videoVision } = processor.videoProcessor;
    expect(videoVision).toEqual(processor.imageProcessor);
    expect([doSampleFrames, numFrames, fps]).toEqual([false, 8, null]);
    // patch size from the vision tower, strategy from the model config
    expect(processor.patchSize).toBe(14);
    expect(processor.visionFeatureSelectStrategy).toBe('default');
  });

  it('a v4 video_preprocessor_config.json and a nested v5 video_processor take the video class defaults, not the image settings', () => {
    const image = edited(
      v4Json('preprocessor_config.json') as Json,
      (json) => (json.crop_size = { height: 336, width: 336 }),
    );
    const v4 = parseProcessorConfig({ preprocessorConfig: image, videoPreprocessorConfig: { num_frames: 16 } });
    expect(v4.imageProcessor.cropSize).toEqual({ height: 336, width: 336 });
    expect(v4.videoProcessor.cropSize).toEqual({ height: 224, width: 224 });
    expect(v4.videoProcessor.numFrames).toBe(16);
    const v5 = parseProcessorConfig({ processorConfig: { image_processor: image, video_processor: {} } });
    expect(v5.videoProcessor.cropSize).toEqual({ height: 224, width: 224 });
  });

  it('reads size and crop_size in every form get_size_dict takes: int, [height, width] list, dict', () => {
    const parse = (fields: Json) =>
      parseProcessorConfig({ preprocessorConfig: { ...(v4Json('preprocessor_config.json') as Json), ...fields } })
        .imageProcessor;
    // size as an int is the shortest edge (default_to_square=False); crop_size as an int is a square
    expect(parse({ size: 336, crop_size: 336 })).toMatchObject({
      size: { shortestEdge: 336 },
      cropSize: { height: 336, width: 336 },
    });
    // a list is [height, width] for both
    expect(parse({ size: [300, 400], crop_size: [280, 320] })).toMatchObject({
      size: { height: 300, width: 400 },
      cropSize: { height: 280, width: 320 },
    });
    expect(parse({ size: { height: 336, width: 448 } }).size).toEqual({ height: 336, width: 448 });
    // longest_edge beside shortest_edge is kept (the torchvision video path caps the long side with it)
    expect(parse({ size: { shortest_edge: 336, longest_edge: 1000 } }).size).toEqual({
      shortestEdge: 336,
      longestEdge: 1000,
    });
  });

  it('a v4 preprocessor_config.json alone gives the video processor its settings and its video fields', () => {
    const image = edited(v4Json('preprocessor_config.json') as Json, (json) => {
      json.crop_size = { height: 336, width: 336 };
      json.num_frames = 16;
      json.do_sample_frames = true;
      json.resample = 2;
    });
    const processor = parseProcessorConfig({ preprocessorConfig: image });
    expect(processor.videoProcessor).toMatchObject({
      cropSize: { height: 336, width: 336 },
      resample: 2,
      numFrames: 16,
      doSampleFrames: true,
      fps: null,
    });
  });

  it("fps counts only without num_frames, as in transformers' sample_frames", () => {
    const video = (fields: Json) =>
      parseProcessorConfig({ preprocessorConfig: v4Json('preprocessor_config.json'), videoPreprocessorConfig: fields })
        .videoProcessor;
    expect(video({ do_sample_frames: true, fps: 2 })).toMatchObject({ fps: 2, numFrames: 8 });
    expect(video({ do_sample_frames: true, fps: 2, num_frames: 6 })).toMatchObject({ fps: null, numFrames: 6 });
  });

  it("records where each processor's settings came from, for errors that name the file and field", () => {
    const v5 = parseProcessorConfig({ processorConfig: tinyJson('processor_config.json') });
    expect(v5.imageProcessor.origin).toEqual({ file: 'processor_config.json', fieldPrefix: 'image_processor' });
    expect(v5.videoProcessor.origin).toEqual({ file: 'processor_config.json', fieldPrefix: 'video_processor' });
    const v4 = parseProcessorConfig({
      preprocessorConfig: v4Json('preprocessor_config.json'),
      videoPreprocessorConfig: {},
    });
    expect(v4.imageProcessor.origin).toEqual({ file: 'preprocessor_config.json', fieldPrefix: '' });
    expect(v4.videoProcessor.origin).toEqual({ file: 'video_preprocessor_config.json', fieldPrefix: '' });
  });

  it('takes the frame count from video_seq_length when the video processor does not say', () => {
    const model = parseModelConfig(
      edited(tinyJson('config.json') as Json, (json) => (json.video_seq_length = 257 * 16)),
    );
    const processor = parseProcessorConfig({ processorConfig: tinyJson('processor_config.json') }, model);
    expect(processor.videoProcessor.numFrames).toBe(16);
    expect(deriveValues(model, processor).tokensPerVideo).toBe(257 * 16);
  });

  it('counts tokens from the crop size and patch size (strategy "full" keeps the CLS for images too)', () => {
    const model = parseModelConfig(tinyJson('config.json'));
    const full = parseProcessorConfig(
      {
        processorConfig: edited(
          tinyJson('processor_config.json') as Json,
          (json) => (json.vision_feature_select_strategy = 'full'),
        ),
      },
      model,
    );
    expect(deriveValues(model, full)).toMatchObject({ tokensPerImage: 257, tokensPerFrame: 257 });
    const larger = parseProcessorConfig(
      {
        processorConfig: edited(tinyJson('processor_config.json') as Json, (json) => {
          json.image_processor.crop_size = { height: 336, width: 336 };
          json.video_processor.crop_size = { height: 336, width: 336 };
        }),
      },
      model,
    );
    expect(deriveValues(model, larger)).toMatchObject({ patchesPerSide: 24, tokensPerImage: 576, tokensPerFrame: 577 });
  });
});

describe('parseProcessorConfig errors name the file and the field', () => {
  it('neither layout', async () => {
    const error = await catchError(() => parseProcessorConfig({ processorConfig: { patch_size: 14 } }));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain('processor_config.json');
    expect(error.message).toContain('preprocessor_config.json');
    expect(error.field).toBe('image_processor');
  });

  it('wrong type in a nested processor', async () => {
    const error = await catchError(() =>
      parseProcessorConfig({
        processorConfig: edited(
          tinyJson('processor_config.json') as Json,
          (json) => (json.video_processor.image_mean = [0.5, 0.5]),
        ),
      }),
    );
    expect([error.code, error.file, error.field]).toEqual([
      'INVALID_CONFIG',
      'processor_config.json',
      'video_processor.image_mean',
    ]);
    expect(error.message).toContain('video_processor.image_mean');
  });

  it('out-of-range values', async () => {
    const std = await catchError(() =>
      parseProcessorConfig({
        preprocessorConfig: edited(v4Json('preprocessor_config.json') as Json, (json) => (json.image_std = [0, 1, 1])),
      }),
    );
    expect([std.code, std.file, std.field]).toEqual(['INVALID_CONFIG', 'preprocessor_config.json', 'image_std']);
    const resample = await catchError(() =>
      parseProcessorConfig({
        preprocessorConfig: edited(v4Json('preprocessor_config.json') as Json, (json) => (json.resample = 9)),
      }),
    );
    expect([resample.code, resample.field]).toEqual(['INVALID_CONFIG', 'resample']);
    expect(resample.message).toContain('<= 5');
    const frames = await catchError(() =>
      parseProcessorConfig({
        preprocessorConfig: v4Json('preprocessor_config.json'),
        videoPreprocessorConfig: { num_frames: 0 },
      }),
    );
    expect([frames.code, frames.file, frames.field]).toEqual([
      'INVALID_CONFIG',
      'video_preprocessor_config.json',
      'num_frames',
    ]);
  });

  it('malformed sizes', async () => {
    for (const [field, value] of [
      ['size', [224]],
      ['size', [224, 0]],
      ['crop_size', [224, 224, 3]],
      ['crop_size', { shortest_edge: 224 }],
      ['size', { longest_edge: 224 }],
    ] as const) {
      const error = await catchError(() =>
        parseProcessorConfig({
          preprocessorConfig: { ...(v4Json('preprocessor_config.json') as Json), [field]: value },
        }),
      );
      expect([error.code, error.file, error.field]).toEqual(['INVALID_CONFIG', 'preprocessor_config.json', field]);
    }
  });

  it('a patch larger than the processed image', async () => {
    const model = parseModelConfig(tinyJson('config.json'));
    const processor = parseProcessorConfig(
      { processorConfig: edited(tinyJson('processor_config.json') as Json, (json) => (json.patch_size = 300)) },
      model,
    );
    const error = await catchError(() => deriveValues(model, processor));
    expect([error.code, error.file, error.field]).toEqual(['INVALID_CONFIG', 'processor_config.json', 'patch_size']);
  });
});
