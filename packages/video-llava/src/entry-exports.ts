// What both entries export besides their platform and their `VideoLlava` (`index.ts`: Node.js, `web.ts`: browsers).
export { VideoLlavaPipeline } from './video-llava-pipeline.js';
export type {
  VideoLlavaAnswer,
  VideoLlavaLoadOptions,
  VideoLlavaRequest,
  VideoLlavaSequence,
  VideoLlavaStream,
} from './video-llava-pipeline.js';
export type { BrowserImage, ImageInput, VideoInput } from './media-inputs.js';
export type { MediaLoadOptions, SourceOptions, VideoLlavaPlatform } from './platform.js';
export { VideoLlavaForConditionalGeneration } from '@video-llava/model';
// The types the options of `load`, `generate` and `stream` use, so that an application needs no other import.
export type { ModelDtypeChoice, ModelPart } from '@video-llava/model';
export { VideoLlavaProcessor } from '@video-llava/processor';
export type { ChatContentPart, ChatMessage } from '@video-llava/processor';
export type { GenerationDelta, GenerationOptions, GenerationStep, FinishReason } from '@video-llava/generation';
export { VideoLlavaError } from '@video-llava/core';
/**
 * An n-dimensional array of one {@link DataType} (`new Tensor('float32', data, [1, 3, 224, 224])`): what `generate`
 * takes as already processed pixel values (`videos`, `images`), without installing `@video-llava/core`.
 */
export { Tensor } from '@video-llava/core';
/** The element types a {@link Tensor} can hold (`'float32'`, `'int64'`, ...). */
export type { DataType } from '@video-llava/core';
export type { ProgressCallback, ProgressEvent } from '@video-llava/core';
