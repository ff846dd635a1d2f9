import type { ProgressCallback } from '@video-llava/core';
import { VideoLlava } from 'video-llava';
import type { CliIo } from './command.js';
import { type ModelLoadArguments, modelLoadOptions } from './model-load-arguments.js';
import { type SourceFlagValues, sourceOptionsFromFlags } from './model-source-arguments.js';

/**
 * Loads the model a command names, with its `--dtype`, `--threads` and source flags (all checked before: see
 * `parseModelLoadFlags`).
 * @returns the model and how long loading took (ms)
 */
export async function loadVideoLlava(
  model: string,
  values: SourceFlagValues,
  load: ModelLoadArguments,
  io: CliIo,
  onProgress: ProgressCallback | undefined,
): Promise<{ videoLlava: VideoLlava; loadMilliseconds: number }> {
  const options = modelLoadOptions(model, load, io.cwd);
  const start = performance.now();
  const videoLlava = await VideoLlava.load(model, {
    sourceOptions: sourceOptionsFromFlags(values, io),
    ...options,
    ...(onProgress ? { onProgress } : {}),
  });
  return { videoLlava, loadMilliseconds: performance.now() - start };
}
