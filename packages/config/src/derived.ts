import { VideoLlavaError } from '@video-llava/core';
import type { DerivedValues, ProcessorConfig, VideoLlavaConfig } from './types.js';

/**
 * The counts the reference derives from the configs (transformers' `VideoLlavaProcessor`):
 * `tokensPerFrame = (cropHeight / patch) * (cropWidth / patch) + numAdditionalImageTokens`,
 * `tokensPerImage = tokensPerFrame - 1` under strategy `default` (the CLS is dropped), and
 * `tokensPerVideo = framesPerVideo * tokensPerFrame` (frames keep the CLS).
 */
export function deriveValues(model: VideoLlavaConfig, processor: ProcessorConfig): DerivedValues {
  const { height, width } = processor.imageProcessor.doCenterCrop ? processor.imageProcessor.cropSize : sizeWithoutCrop(model);
  const patch = processor.patchSize;
  const patchesHigh = Math.floor(height / patch);
  const patchesWide = Math.floor(width / patch);
  if (patchesHigh < 1 || patchesWide < 1) {
    throw new VideoLlavaError('INVALID_CONFIG', `processor_config.json: patch_size ${patch} is larger than the ${height}x${width} input.`, {
      file: 'processor_config.json',
      field: 'patch_size',
      expected: `at most ${Math.min(height, width)}`,
      actual: patch,
    });
  }
  const numPatches = patchesHigh * patchesWide;
  const tokensPerFrame = numPatches + processor.numAdditionalImageTokens;
  const tokensPerImage = processor.visionFeatureSelectStrategy === 'default' ? tokensPerFrame - 1 : tokensPerFrame;
  const framesPerVideo = processor.videoProcessor.numFrames;
  return {
    headDim: model.textConfig.headDim,
    patchesPerSide: patchesHigh,
    numPatches,
    tokensPerImage,
    tokensPerFrame,
    framesPerVideo,
    tokensPerVideo: framesPerVideo * tokensPerFrame,
    storedDtype: model.storedDtype,
  };
}

function sizeWithoutCrop(model: VideoLlavaConfig): { height: number; width: number } {
  return { height: model.visionConfig.imageSize, width: model.visionConfig.imageSize };
}
