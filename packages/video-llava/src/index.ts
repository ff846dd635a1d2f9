import { nodePlatform } from './node-platform.js';
import { VideoLlavaPipeline } from './video-llava-pipeline.js';

export { VideoLlavaPipeline } from './video-llava-pipeline.js';
export type { VideoLlavaAnswer, VideoLlavaLoadOptions, VideoLlavaRequest, VideoLlavaSequence, VideoLlavaStream } from './video-llava-pipeline.js';
export type { ImageInput, VideoInput } from './media-inputs.js';
export type { MediaLoadOptions, SourceOptions, VideoLlavaPlatform } from './platform.js';
export { nodePlatform } from './node-platform.js';
export { VideoLlavaForConditionalGeneration } from '@video-llava/model';
export { VideoLlavaProcessor } from '@video-llava/processor';
export type { ChatMessage } from '@video-llava/processor';
export type { GenerationDelta, GenerationOptions, FinishReason } from '@video-llava/generation';
export { VideoLlavaError } from '@video-llava/core';

/**
 * Video-LLaVA in Node.js: `VideoLlava.load(source)` then `generate` / `stream`. Runs on onnxruntime-node (CPU; CUDA
 * where installed), decodes videos with FFmpeg and images with sharp / the built-in PNG decoder.
 *
 * @example
 * ```ts
 * import { VideoLlava } from 'video-llava';
 * const model = await VideoLlava.load('path/to/converted-model');
 * const answer = await model.generate({ prompt: 'USER: <video>\nWhy is this funny? ASSISTANT:', videos: ['clip.mp4'] });
 * console.log(answer.text);
 * ```
 */
export class VideoLlava extends VideoLlavaPipeline {
  static override platform = nodePlatform;
}
