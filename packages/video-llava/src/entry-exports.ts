// What both entries export besides their platform and their `VideoLlava` (`index.ts`: Node.js, `web.ts`: browsers).
export { VideoLlavaPipeline } from './video-llava-pipeline.js';
export type { VideoLlavaAnswer, VideoLlavaLoadOptions, VideoLlavaRequest, VideoLlavaSequence, VideoLlavaStream } from './video-llava-pipeline.js';
export type { ImageInput, VideoInput } from './media-inputs.js';
export type { MediaLoadOptions, SourceOptions, VideoLlavaPlatform } from './platform.js';
export { VideoLlavaForConditionalGeneration } from '@video-llava/model';
export { VideoLlavaProcessor } from '@video-llava/processor';
export type { ChatMessage } from '@video-llava/processor';
export type { GenerationDelta, GenerationOptions, FinishReason } from '@video-llava/generation';
export { VideoLlavaError } from '@video-llava/core';
