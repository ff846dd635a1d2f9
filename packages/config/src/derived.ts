import { VideoLlavaError } from '@video-llava/core';
import type { DerivedValues, ProcessorConfig, VideoLlavaConfig, VisionProcessorConfig } from './types.js';

/**
 * The height and width a processor hands to the vision tower: the crop when it crops, else an exact resize
 * target, else (a shortest-edge resize without a crop, whose output depends on the input) the tower's
 * `image_size`.
 *
 * @param settings the image or video processor settings
 * @param towerImageSize the vision tower's `image_size`
 */
export function processedImageSize(
  settings: VisionProcessorConfig,
  towerImageSize: number,
): { height: number; width: number } {
  if (settings.doCenterCrop) return settings.cropSize;
  if (settings.doResize && 'height' in settings.size)
    return { height: settings.size.height, width: settings.size.width };
  return { height: towerImageSize, width: towerImageSize };
}

/** More media tokens than any language model's context (2^24): a config asking for them is broken. */
const MAX_MEDIA_TOKENS = 2 ** 24;

function patchGrid(
  settings: VisionProcessorConfig,
  model: VideoLlavaConfig,
  processor: ProcessorConfig,
  file: string,
): { high: number; wide: number } {
  const { height, width } = processedImageSize(settings, model.visionConfig.imageSize);
  const patch = processor.patchSize;
  const high = Math.floor(height / patch);
  const wide = Math.floor(width / patch);
  if (high < 1 || wide < 1) {
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${file}: patch_size ${patch} is larger than the ${height}x${width} input the processor produces.`,
      {
        file,
        field: 'patch_size',
        expected: `at most ${Math.min(height, width)}`,
        actual: patch,
      },
    );
  }
  return { high, wide };
}

/**
 * The counts the reference derives from the configs (transformers' `VideoLlavaProcessor`), with `H x W` the
 * processor's output size:
 * `tokensPerFrame = (H // patch) * (W // patch) + numAdditionalImageTokens`,
 * `tokensPerImage = tokensPerFrame - 1` under strategy `default` (the CLS is dropped for images only), and
 * `tokensPerVideo = framesPerVideo * tokensPerFrame` (frames keep the CLS).
 */
export function deriveValues(model: VideoLlavaConfig, processor: ProcessorConfig): DerivedValues {
  const file = processor.layout === 'v5' ? 'processor_config.json' : 'preprocessor_config.json';
  const image = patchGrid(processor.imageProcessor, model, processor, file);
  const frame = patchGrid(processor.videoProcessor, model, processor, file);
  const numPatches = image.high * image.wide;
  const imageTokensWithCls = numPatches + processor.numAdditionalImageTokens;
  const tokensPerImage =
    processor.visionFeatureSelectStrategy === 'default' ? imageTokensWithCls - 1 : imageTokensWithCls;
  const tokensPerFrame = frame.high * frame.wide + processor.numAdditionalImageTokens;
  const framesPerVideo = processor.videoProcessor.numFrames;
  // Sizes that are integers each can still multiply past what any model takes (or past exact arithmetic).
  const tokensPerVideo = framesPerVideo * tokensPerFrame;
  if (
    !Number.isSafeInteger(tokensPerVideo) ||
    !Number.isSafeInteger(tokensPerImage) ||
    tokensPerVideo > MAX_MEDIA_TOKENS ||
    tokensPerImage > MAX_MEDIA_TOKENS
  ) {
    throw new VideoLlavaError(
      'INVALID_CONFIG',
      `${file}: the image and video sizes give ${tokensPerImage} tokens per image and ${tokensPerVideo} per video (${framesPerVideo} frames of ${tokensPerFrame}); more than ${MAX_MEDIA_TOKENS} cannot be meant (check crop_size, size, patch_size and num_frames).`,
      {
        file,
        field: 'crop_size',
        expected: `at most ${MAX_MEDIA_TOKENS} tokens per image or video`,
        actual: Math.max(tokensPerImage, tokensPerVideo),
      },
    );
  }
  return {
    headDim: model.textConfig.headDim,
    patchesPerSide: image.high,
    numPatches,
    tokensPerImage,
    tokensPerFrame,
    framesPerVideo,
    tokensPerVideo,
    storedDtype: model.storedDtype,
  };
}
