import { VideoLlavaPipeline } from './video-llava-pipeline.js';
import { webPlatform } from './web-platform.js';

export * from './entry-exports.js';
export { webPlatform } from './web-platform.js';

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
