import { VideoLlavaPipeline } from './video-llava-pipeline.js';
import { webPlatform } from './web-platform.js';

export { VideoLlavaPipeline } from './video-llava-pipeline.js';
export type { VideoLlavaAnswer, VideoLlavaLoadOptions, VideoLlavaRequest, VideoLlavaSequence, VideoLlavaStream } from './video-llava-pipeline.js';
export type { ImageInput, VideoInput } from './media-inputs.js';
export type { MediaLoadOptions, SourceOptions, VideoLlavaPlatform } from './platform.js';
export { webPlatform } from './web-platform.js';
export { VideoLlavaForConditionalGeneration } from '@video-llava/model';
export { VideoLlavaProcessor } from '@video-llava/processor';
export type { ChatMessage } from '@video-llava/processor';
export type { GenerationDelta, GenerationOptions, FinishReason } from '@video-llava/generation';
export { VideoLlavaError } from '@video-llava/core';

/**
 * Video-LLaVA in the browser: `VideoLlava.load(url | 'org/name')` then `generate` / `stream`. Runs on
 * onnxruntime-web (WebGPU where available, else WebAssembly), decodes videos with WebCodecs.
 *
 * @example
 * ```ts
 * import { VideoLlava } from 'video-llava/web';
 * const model = await VideoLlava.load('https://example.com/models/video-llava-7b-onnx');
 * for await (const delta of model.stream({ prompt: 'USER: <video>\nWhat happens? ASSISTANT:', videos: [file] })) output.append(delta.text);
 * ```
 */
export class VideoLlava extends VideoLlavaPipeline {
  static override platform = webPlatform;
}
