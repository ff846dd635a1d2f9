import type { ProgressCallback } from '@video-llava/core';
import { type ModelPart, VideoLlava } from 'video-llava';
import type { CliIo } from './command.js';
import { type ModelLoadArguments, modelLoadOptions } from './model-load-arguments.js';
import { type SourceFlagValues, sourceOptionsFromFlags } from './model-source-arguments.js';

/**
 * Loads the model a command names, with its `--dtype`, `--threads` and source flags (all checked before: see
 * `parseModelLoadFlags`), and opens the encoders the first question needs, so that the load time is all in `load`
 * (an encoder opened on first use would count as encoding).
 * @param media how many videos and images the first question has
 * @returns the model and how long loading took (ms)
 */
export async function loadVideoLlava(
  model: string,
  values: SourceFlagValues,
  load: ModelLoadArguments,
  io: CliIo,
  onProgress: ProgressCallback | undefined,
  media: { videos: number; images: number },
): Promise<{ videoLlava: VideoLlava; loadMilliseconds: number }> {
  const options = modelLoadOptions(model, load, io);
  const preload: ModelPart[] = ['embed_tokens', 'decoder_model_merged'];
  if (media.images > 0) preload.push('image_encoder');
  if (media.videos > 0) preload.push('video_encoder');
  const start = performance.now();
  const videoLlava = await VideoLlava.load(model, {
    sourceOptions: sourceOptionsFromFlags(values, io),
    ...options,
    preload,
    ...(onProgress ? { onProgress } : {}),
  });
  return { videoLlava, loadMilliseconds: performance.now() - start };
}
