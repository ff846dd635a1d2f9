import { nodePlatform } from './node-platform.js';
import { VideoLlavaPipeline } from './video-llava-pipeline.js';

export * from './entry-exports.js';
export { nodePlatform } from './node-platform.js';

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
