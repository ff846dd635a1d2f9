import type { ProgressCallback } from '@video-llava/core';
import { Tensor } from '@video-llava/core';
import type {
  CausalLanguageModel,
  LanguageModelInput,
  LanguageModelOutput,
  LanguageModelStepInput,
} from '@video-llava/generation';
import { type VideoLlavaCache, gatherCache, releaseCacheTensors } from './kv-cache.js';
import type { LanguageModelHost, PixelInputs } from './language-model-host.js';
import { positionIdsFromAttentionMask } from './position-ids.js';
import { sliceColumns } from './slice-columns.js';
import { type PrefixCacheStore, type PrefixMatch, matchPrefix } from './prefix-cache.js';

/** What a {@link VideoLlavaLanguageModel} binds for its request. */
export interface MediaInputs extends PixelInputs {
  /**
   * Start from the model's cached prefix when the prompt begins with it.
   * @default false
   */
  prefixCache?: boolean | undefined;
  /** Receives `encode` progress (images and videos). */
  onProgress?: ProgressCallback | undefined;
}

/** The items of a `[items, ...]` tensor from `first` on (a view). */
function itemsFrom(tensor: Tensor<'float32'> | undefined, first: number): Tensor<'float32'> | undefined {
  if (tensor === undefined || first === 0) return tensor;
  const count = tensor.dims[0]!;
  if (first >= count) return undefined;
  const size = tensor.size / count;
  return new Tensor('float32', tensor.data.subarray(first * size), [count - first, ...tensor.dims.slice(1)]);
}

/**
 * Video-LLaVA's language model bound to one request's images and videos: the {@link CausalLanguageModel} that
 * `@video-llava/generation` decodes from. `prefill` encodes the media, writes their features into the prompt's
 * embeddings and runs the decoder (after the cached prefix, when there is one that fits); `forward` embeds each new
 * token and feeds the cache back. Position ids come from the attention mask (`cumsum - 1`, 1 on padding).
 */
export class VideoLlavaLanguageModel implements CausalLanguageModel<VideoLlavaCache> {
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  /** How the last prefill used the cached prefix (`undefined` before a prefill or when none was used). */
  lastPrefixMatch: PrefixMatch | undefined;
  readonly #model: LanguageModelHost;
  readonly #media: MediaInputs;
  readonly #store: PrefixCacheStore;

  constructor(model: LanguageModelHost, media: MediaInputs, store: PrefixCacheStore) {
    this.#model = model;
    this.#media = media;
    this.#store = store;
    this.vocabSize = model.config.model.textConfig.vocabSize;
    this.maxPositionEmbeddings = model.config.model.textConfig.maxPositionEmbeddings;
  }

  async prefill(input: LanguageModelInput): Promise<LanguageModelOutput<VideoLlavaCache>> {
    const model = this.#model;
    const { inputIds, attentionMask, signal } = input;
    const [rows, length] = inputIds.dims as [number, number];
    const media = this.#media;
    model.checkMediaTokens(inputIds, media);
    let cache: VideoLlavaCache | undefined;
    let match: PrefixMatch = { length: 0, images: 0, videos: 0 };
    const entry = media.prefixCache ? this.#store.entry : undefined;
    if (entry && rows === 1 && attentionMask.data.every((value) => value === 1n)) {
      const derived = model.config.derived;
      match = matchPrefix(entry, inputIds.data, media, {
        imageTokenId: model.config.model.imageTokenIndex,
        videoTokenId: model.config.model.videoTokenIndex,
        tokensPerImage: derived.tokensPerImage,
        tokensPerVideo: derived.tokensPerFrame * (media.pixelValuesVideos?.dims[1] ?? derived.framesPerVideo),
      });
      if (match.length > 0) cache = await this.#store.read(entry, () => gatherCache(entry.cache, [0], match.length));
    }
    this.lastPrefixMatch = match.length > 0 ? match : undefined;
    cache ??= await model.emptyCache(rows);
    let embeds: Tensor<'float32'>;
    try {
      embeds = await model.inputEmbeddings({
        inputIds: sliceColumns(inputIds, match.length, length, 1),
        pixelValuesImages: itemsFrom(media.pixelValuesImages, match.images),
        pixelValuesVideos: itemsFrom(media.pixelValuesVideos, match.videos),
        signal,
        onProgress: media.onProgress,
      });
    } catch (error) {
      releaseCacheTensors(cache);
      throw error;
    }
    model.statistics.prefillTokens += rows * (length - match.length);
    model.statistics.reusedPrefixTokens += rows * match.length;
    return model.runDecoder({
      inputsEmbeds: embeds,
      attentionMask,
      positionIds: positionIdsFromAttentionMask(attentionMask, length - match.length),
      cache,
      lastPositionOnly: true,
      signal,
    });
  }

  async forward(input: LanguageModelStepInput<VideoLlavaCache>): Promise<LanguageModelOutput<VideoLlavaCache>> {
    const { inputIds, attentionMask, cache, signal } = input;
    let embeds: Tensor<'float32'>;
    try {
      // A generated <image> or <video> id is an ordinary token here, as in the reference's decoding steps.
      embeds = await this.#model.embedTokens(inputIds, { signal });
    } catch (error) {
      releaseCacheTensors(cache);
      throw error;
    }
    return this.#model.runDecoder({
      inputsEmbeds: embeds,
      attentionMask,
      positionIds: positionIdsFromAttentionMask(attentionMask, inputIds.dims[1]!),
      cache,
      lastPositionOnly: true,
      signal,
    });
  }

  async selectCacheRows(cache: VideoLlavaCache, rowIndices: Int32Array): Promise<VideoLlavaCache> {
    if (rowIndices.length === cache.rows && rowIndices.every((row, index) => row === index)) return cache;
    try {
      return await gatherCache(cache, rowIndices);
    } finally {
      releaseCacheTensors(cache);
    }
  }

  releaseCache(cache: VideoLlavaCache): void {
    releaseCacheTensors(cache);
  }
}
