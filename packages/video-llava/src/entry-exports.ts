// What both entries export besides their platform and their `VideoLlava` (`index.ts`: Node.js, `web.ts`: browsers).
export { VideoLlavaPipeline } from './video-llava-pipeline.js';
export type { VideoLlavaAnswer, VideoLlavaLoadOptions, VideoLlavaRequest, VideoLlavaSequence, VideoLlavaStream } from './video-llava-pipeline.js';
export type { BrowserImage, ImageInput, VideoInput } from './media-inputs.js';
export type { MediaLoadOptions, SourceOptions, VideoLlavaPlatform } from './platform.js';
export { VideoLlavaForConditionalGeneration } from '@video-llava/model';
// The types the options of `load`, `generate` and `stream` use, so that an application needs no other import.
export type { ModelDtypeChoice, ModelPart } from '@video-llava/model';
export { VideoLlavaProcessor } from '@video-llava/processor';
export type { ChatContentPart, ChatMessage } from '@video-llava/processor';
export type { GenerationDelta, GenerationOptions, GenerationStep, FinishReason } from '@video-llava/generation';
export { VideoLlavaError } from '@video-llava/core';
export type { ProgressCallback, ProgressEvent } from '@video-llava/core';
