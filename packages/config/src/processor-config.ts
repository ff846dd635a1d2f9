import { VideoLlavaError } from '@video-llava/core';
import { processedImageSize } from './derived.js';
import { FieldReader, asJsonObject } from './field-reader.js';
import type {
  ImageProcessorConfig,
  ProcessorConfig,
  SizeSpec,
  VideoLlavaConfig,
  VideoProcessorConfig,
  VisionProcessorConfig,
} from './types.js';

const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** A `[height, width]` pair, as transformers' `get_size_dict` reads a list or tuple. */
function sizePair(
  reader: FieldReader,
  name: string,
  value: unknown,
  expected: string,
): { height: number; width: number } | null {
  if (!Array.isArray(value)) return null;
  if (value.length !== 2 || !value.every((item) => typeof item === 'number' && Number.isInteger(item) && item >= 1))
    reader.fail(name, expected, value);
  return { height: value[0] as number, width: value[1] as number };
}

/**
 * `size` by transformers' `get_size_dict(size, default_to_square=False)`: an int is the shortest edge, a
 * `[height, width]` list an exact size, a dict `{"shortest_edge"}` (with an optional `longest_edge`) or
 * `{"height", "width"}`.
 */
function parseSize(reader: FieldReader, name: string, fallback: SizeSpec): SizeSpec {
  const value = reader.json[name];
  const expected = 'a positive integer, [height, width], {"shortest_edge": N} or {"height": H, "width": W}';
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1) reader.fail(name, expected, value);
    return { shortestEdge: value };
  }
  const pair = sizePair(reader, name, value, expected);
  if (pair) return pair;
  const size = reader.object(name)!;
  if (size.has('shortest_edge')) {
    const shortestEdge = size.positiveInteger('shortest_edge', 224);
    const longestEdge = size.optionalInteger('longest_edge', { min: 1 });
    return longestEdge === null ? { shortestEdge } : { shortestEdge, longestEdge };
  }
  if (size.has('height') && size.has('width'))
    return { height: size.positiveInteger('height', 224), width: size.positiveInteger('width', 224) };
  reader.fail(name, expected, value);
}

/** `crop_size` by `get_size_dict(crop_size, default_to_square=True)`: an int is a square, a list `[height, width]`. */
function parseCropSize(
  reader: FieldReader,
  fallback: { height: number; width: number },
): { height: number; width: number } {
  const value = reader.json['crop_size'];
  const expected = 'a positive integer, [height, width] or {"height": H, "width": W}';
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1) reader.fail('crop_size', expected, value);
    return { height: value, width: value };
  }
  const pair = sizePair(reader, 'crop_size', value, expected);
  if (pair) return pair;
  const crop = reader.object('crop_size')!;
  if (!crop.has('height') || !crop.has('width')) reader.fail('crop_size', expected, value);
  return { height: crop.positiveInteger('height', 224), width: crop.positiveInteger('width', 224) };
}

/** One processor's settings; a missing field takes the default of transformers' class (the same for image and video). */
function parseVisionProcessor(reader: FieldReader): VisionProcessorConfig {
  const base: Omit<VisionProcessorConfig, 'origin'> = {
    doResize: true,
    size: { shortestEdge: 224 },
    resample: 3,
    doCenterCrop: true,
    cropSize: { height: 224, width: 224 },
    doRescale: true,
    rescaleFactor: 1 / 255,
    doNormalize: true,
    imageMean: OPENAI_CLIP_MEAN,
    imageStd: OPENAI_CLIP_STD,
    doConvertRgb: true,
  };
  const imageStd = reader.numberTriple('image_std', base.imageStd);
  imageStd.forEach((value) => {
    if (value === 0) reader.fail('image_std', 'non-zero standard deviations', imageStd);
  });
  return {
    doResize: reader.boolean('do_resize', base.doResize),
    size: parseSize(reader, 'size', base.size),
    resample: reader.integer('resample', base.resample, { min: 0, max: 5 }),
    doCenterCrop: reader.boolean('do_center_crop', base.doCenterCrop),
    cropSize: parseCropSize(reader, base.cropSize),
    doRescale: reader.boolean('do_rescale', base.doRescale),
    rescaleFactor: reader.number('rescale_factor', base.rescaleFactor, { above: 0 }),
    doNormalize: reader.boolean('do_normalize', base.doNormalize),
    imageMean: reader.numberTriple('image_mean', base.imageMean),
    imageStd,
    doConvertRgb: reader.boolean('do_convert_rgb', base.doConvertRgb),
    origin: { file: reader.file, fieldPrefix: reader.prefix },
  };
}

/** Video settings before the frame count is settled (it may depend on the patch size and the model config). */
type PartialVideoProcessor = Omit<VideoProcessorConfig, 'numFrames'> & { numFrames: number | null };

function parseVideoProcessor(reader: FieldReader): PartialVideoProcessor {
  const numFrames = reader.optionalInteger('num_frames', { min: 1 });
  const fps = reader.optionalNumber('fps', { above: 0 });
  return {
    ...parseVisionProcessor(reader),
    doSampleFrames: reader.boolean('do_sample_frames', false),
    numFrames,
    // transformers' sample_frames turns fps into a frame count only when num_frames is unset
    fps: numFrames === null ? fps : null,
  };
}

/**
 * Frames per video when the video processor does not say: the model config's `video_seq_length` divided by the
 * tokens one frame contributes, when that divides evenly (2056 / 257 = 8 for Video-LLaVA), else 8.
 */
function defaultFrameCount(
  video: VisionProcessorConfig,
  patchSize: number,
  numAdditionalImageTokens: number,
  modelConfig: VideoLlavaConfig | undefined,
): number {
  const fallback = 8;
  if (!modelConfig) return fallback;
  const { height, width } = processedImageSize(video, modelConfig.visionConfig.imageSize);
  const tokensPerFrame = Math.floor(height / patchSize) * Math.floor(width / patchSize) + numAdditionalImageTokens;
  return tokensPerFrame > 0 && modelConfig.videoSeqLength % tokensPerFrame === 0
    ? modelConfig.videoSeqLength / tokensPerFrame
    : fallback;
}

/** The files a processor config may come from. Each is the parsed JSON, or undefined when the file is absent. */
export interface ProcessorConfigFiles {
  /** v5 `processor_config.json` (nested `image_processor`, `video_processor`), or v4's processor-only kwargs. */
  processorConfig?: unknown;
  /** v4 `preprocessor_config.json` (the image processor at the top level). */
  preprocessorConfig?: unknown;
  /** v4 `video_preprocessor_config.json` (the video processor at the top level). */
  videoPreprocessorConfig?: unknown;
}

/**
 * Validates the processor settings of a checkpoint from whichever layout it has:
 * - v5: `processor_config.json` with nested `image_processor` and `video_processor`;
 * - v4: `preprocessor_config.json` (image) plus an optional `video_preprocessor_config.json`; without it the
 *   video settings are the image settings.
 * `patch_size`, `vision_feature_select_strategy` and `num_additional_image_tokens` come from the processor config
 * when present, else from the model config, else the reference's defaults (14, `default`, 1).
 *
 * @throws VideoLlavaError `FILE_NOT_FOUND` when neither layout is present; `INVALID_CONFIG` naming file and field
 */
export function parseProcessorConfig(files: ProcessorConfigFiles, modelConfig?: VideoLlavaConfig): ProcessorConfig {
  const processor =
    files.processorConfig === undefined
      ? null
      : new FieldReader(asJsonObject(files.processorConfig, 'processor_config.json'), 'processor_config.json');
  const nestedImage = processor?.object('image_processor') ?? null;
  let layout: 'v5' | 'v4';
  let imageProcessor: ImageProcessorConfig;
  let video: PartialVideoProcessor;
  if (nestedImage) {
    layout = 'v5';
    imageProcessor = parseVisionProcessor(nestedImage);
    // A nested video_processor is a VideoLlavaVideoProcessor of its own: its missing fields take the class
    // defaults. Without one, the video settings are the image settings (both classes have the same defaults).
    video = parseVideoProcessor(processor!.object('video_processor') ?? nestedImage);
  } else if (files.preprocessorConfig !== undefined) {
    layout = 'v4';
    const image = new FieldReader(
      asJsonObject(files.preprocessorConfig, 'preprocessor_config.json'),
      'preprocessor_config.json',
    );
    imageProcessor = parseVisionProcessor(image);
    // transformers v4's VideoLlavaImageProcessor handled videos with its own settings, and v5 loads a video
    // processor from preprocessor_config.json when video_preprocessor_config.json is absent: the same settings,
    // plus whatever video fields (num_frames, fps, do_sample_frames) that file has.
    video =
      files.videoPreprocessorConfig === undefined
        ? parseVideoProcessor(image)
        : parseVideoProcessor(
            new FieldReader(
              asJsonObject(files.videoPreprocessorConfig, 'video_preprocessor_config.json'),
              'video_preprocessor_config.json',
            ),
          );
  } else {
    throw new VideoLlavaError(
      'FILE_NOT_FOUND',
      'No processor settings: expected processor_config.json with an "image_processor" object (transformers v5) or preprocessor_config.json (transformers v4).',
      {
        file: 'processor_config.json',
        field: 'image_processor',
        expected: 'processor_config.json or preprocessor_config.json',
        actual: processor ? 'processor_config.json without image_processor' : 'neither file',
      },
    );
  }
  // Processor kwargs: v5 keeps them in processor_config.json; v4 checkpoints may keep them in preprocessor_config.json.
  const kwargsSources = [
    processor,
    files.preprocessorConfig === undefined
      ? null
      : new FieldReader(asJsonObject(files.preprocessorConfig, 'preprocessor_config.json'), 'preprocessor_config.json'),
  ].filter((reader): reader is FieldReader => reader !== null);
  const pick = <T>(read: (reader: FieldReader) => T | null, fallback: T): T => {
    for (const reader of kwargsSources) {
      const value = read(reader);
      if (value !== null) return value;
    }
    return fallback;
  };
  const patchSize = pick(
    (reader) => reader.optionalInteger('patch_size', { min: 1 }),
    modelConfig?.visionConfig.patchSize ?? 14,
  );
  const visionFeatureSelectStrategy = pick(
    (reader) =>
      reader.has('vision_feature_select_strategy')
        ? reader.oneOf('vision_feature_select_strategy', ['default', 'full'] as const, 'default')
        : null,
    modelConfig?.visionFeatureSelectStrategy ?? 'default',
  );
  const numAdditionalImageTokens = pick(
    (reader) => reader.optionalInteger('num_additional_image_tokens', { min: 0 }),
    1,
  );
  const videoProcessor: VideoProcessorConfig = {
    ...video,
    numFrames: video.numFrames ?? defaultFrameCount(video, patchSize, numAdditionalImageTokens, modelConfig),
  };
  return {
    imageProcessor,
    videoProcessor,
    patchSize,
    visionFeatureSelectStrategy,
    numAdditionalImageTokens,
    imageToken: pick((reader) => reader.optionalString('image_token'), '<image>'),
    videoToken: pick((reader) => reader.optionalString('video_token'), '<video>'),
    chatTemplate: processor?.optionalString('chat_template') ?? null,
    layout,
  };
}
