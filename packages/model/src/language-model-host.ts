import type { PretrainedConfig } from '@video-llava/config';
import type { ProgressCallback, Tensor } from '@video-llava/core';
import type { VideoLlavaCache } from './kv-cache.js';
import type { ModelStatistics } from './model-statistics.js';

/** Images and videos of one request, as pixel tensors. */
export interface PixelInputs {
  /** float32 `[images, 3, H, W]`, one per `<image>` of the prompt (the processor expands each to its tokens). */
  pixelValuesImages?: Tensor<'float32'> | undefined;
  /** float32 `[videos, frames, 3, H, W]`, one per `<video>`. */
  pixelValuesVideos?: Tensor<'float32'> | undefined;
}

/** What the decoder gives back for one run. */
export interface DecoderOutput {
  /** float32 `[rows, newPositions, vocab]` (only the last position with `lastPositionOnly`: `[rows, vocab]`), flat. */
  logits: Float32Array;
  /** The cache after the run (the caller owns it). */
  cache: VideoLlavaCache;
}

/**
 * What a `VideoLlavaLanguageModel` calls on the model that made it (`VideoLlavaForConditionalGeneration`
 * implements it). A type of its own so that the language model does not import the class that creates it.
 */
export interface LanguageModelHost {
  readonly config: PretrainedConfig;
  readonly statistics: ModelStatistics;
  checkMediaTokens(inputIds: Tensor<'int64'>, media: PixelInputs): void;
  inputEmbeddings(
    input: {
      inputIds: Tensor<'int64'>;
      signal?: AbortSignal | undefined;
      onProgress?: ProgressCallback | undefined;
    } & PixelInputs,
  ): Promise<Tensor<'float32'>>;
  emptyCache(rows: number): Promise<VideoLlavaCache>;
  embedTokens(inputIds: Tensor<'int64'>, options?: { signal?: AbortSignal | undefined }): Promise<Tensor<'float32'>>;
  runDecoder(input: {
    inputsEmbeds: Tensor<'float32'>;
    attentionMask: Tensor<'int64'>;
    positionIds: Tensor<'int64'>;
    cache: VideoLlavaCache;
    lastPositionOnly?: boolean;
    signal?: AbortSignal | undefined;
  }): Promise<DecoderOutput>;
}
