import { type ModelSource, type PretrainedConfig, loadPretrainedConfig } from '@video-llava/config';
import {
  type DataType,
  type ProgressCallback,
  Tensor,
  VideoLlavaError,
  describeValue,
  throwIfAborted,
} from '@video-llava/core';
import {
  type GenerateOptions,
  type GenerationDelta,
  type GenerationResult,
  type GenerationStream,
  generate,
  singlePassStream,
  streamGeneration,
} from '@video-llava/generation';
import {
  type Backend,
  type InferenceSession,
  type RuntimeTensor,
  type SessionOptions,
  toCpuTensor,
} from '@video-llava/runtime';
import { inputDtype, toFloat32, toSessionFloat } from './float-tensors.js';
import { kvBufferAttentionMask, storeNewPositions } from './kv-buffer.js';
import { withInt8Capacity } from './kv-int8.js';
import { sliceColumns } from './slice-columns.js';
import { type VideoLlavaCache, cachePositionAxis, emptyCache, releaseCacheTensors } from './kv-cache.js';
import type { DecoderOutput, LanguageModelHost, PixelInputs } from './language-model-host.js';
import { type ModelDtype, type ModelDtypeChoice, type ModelPart, resolveModelDtypes } from './model-dtype.js';
import { ModelSessions } from './model-sessions.js';
import { type ModelStatistics, emptyStatistics } from './model-statistics.js';
import { PrefixCacheStore } from './prefix-cache.js';
import { countPlaceholders, scatterMediaFeatures } from './scatter-media-features.js';
import { type MediaInputs, VideoLlavaLanguageModel } from './video-llava-language-model.js';

/** Options of {@link VideoLlavaForConditionalGeneration.fromPretrained}. */
export interface VideoLlavaModelOptions {
  /** The runtime that runs the ONNX files (`createNodeBackend()` of `@video-llava/runtime-node`, `createWebBackend()` of `@video-llava/runtime-web`). */
  backend: Backend;
  /**
   * Which file variant of each part to load (`decoder_model_merged_q4.onnx` for `q4`).
   * @default 'fp32'
   */
  dtype?: ModelDtypeChoice;
  /**
   * Session options for every part, or a function giving each part its own (execution providers, threads, where
   * outputs stay). `signal` and `onProgress` are set by the model.
   * @default {}
   */
  sessionOptions?: SessionOptions | ((part: ModelPart) => SessionOptions);
  /** The checkpoint's configs when already loaded (`loadPretrainedConfig`); read from `source` otherwise. */
  config?: PretrainedConfig;
  /**
   * Parts opened by `fromPretrained`; the others open when first needed (the encoders when images or videos come).
   * @default ['embed_tokens', 'decoder_model_merged']
   */
  preload?: readonly ModelPart[];
  /**
   * Keep the key/value cache of the last single-sequence generation so that a follow-up whose prompt starts the
   * same way (the same video, the conversation so far) skips encoding and prefilling that part.
   * @default true
   */
  prefixCache?: boolean;
  /**
   * Which decoder keeps the key/value cache:
   * - `'buffer'`: `onnx/decoder_kv_buffer{suffix}.onnx` (written by `@video-llava/converter` beside
   *   `decoder_model_merged`, sharing its weights): the cache lives in buffers the model owns, a step writes only
   *   its new positions, and nothing copies or returns the whole cache (the fast path on CPUs). Falls back to
   *   `decoder_model_merged` when the folder has no such file (other exporters).
   * - `'present'`: `decoder_model_merged` (Hugging Face's contract): each step returns the whole cache as
   *   `present.*`, which stays in device memory where the backend can keep it there (WebGPU).
   * - `'auto'`: `'buffer'` when the decoder would run on onnxruntime-node's CPU execution provider (the backend is
   *   asked which of the preferred providers is available: its default list starts with CUDA, which most machines
   *   lack), `'present'` elsewhere.
   * - `'int8'`: `onnx/decoder_kv_int8{suffix}.onnx` (written by `@video-llava/converter` in the formats that compute
   *   in float32): ONNX Runtime's `GroupQueryAttention` keeps the cache as int8 with one scale per channel, in
   *   buffers the model owns and the decoder updates in place (a quarter of the float32 cache's bytes: decoding at
   *   long contexts slows far less). Not exact: keys and values are rounded to int8, with scales set by the prompt
   *   (its largest magnitudes, doubled); the converter README gives its measured logit error. Rows without padding
   *   only (one prompt, or several of one length); the whole prompt runs at once. Runs in place on backends with
   *   `capabilities.inPlaceOutputs` (runtime-node), elsewhere with a copy of the cache after each step. No fallback:
   *   a folder without the file fails with `FILE_NOT_FOUND`.
   * @default 'auto'
   */
  decoderCache?: 'auto' | 'buffer' | 'present' | 'int8';
  /**
   * With the buffer decoder, prompts longer than this run in blocks of this many positions, each attending to the
   * cache the ones before it wrote: attention scores and returned keys and values stay the size of one block (a
   * 2000-token video prompt of a 7B model would otherwise hold gigabytes of them at once). At the 7B dimensions 128
   * prefills as fast as 512 and peaks 1 GiB lower.
   * @default 128
   */
  prefillChunkSize?: number;
  /** Progress: `load` (one item per ONNX file opened) and the backend's `download` bytes. */
  onProgress?: ProgressCallback;
  /** Cancels loading (`ABORTED`). */
  signal?: AbortSignal;
}

/** Options of {@link VideoLlavaForConditionalGeneration.generate}: `@video-llava/generation`'s, plus pixels. */
export interface VideoLlavaGenerateOptions
  extends Omit<GenerateOptions<VideoLlavaCache>, 'model' | 'keepCache' | 'inputIds'>,
    PixelInputs {
  /** The prompt ids, `[batch, length]`, left padded (the processor's `inputIds`). */
  inputIds: Tensor<'int64'> | readonly (readonly number[])[];
  /**
   * Reuse the cached prefix of the previous generation and keep this one's for the next (single sequences only).
   * @default the model's `prefixCache` option
   */
  prefixCache?: boolean;
  /** Progress: `encode` (images and videos through the encoders), then the loop's `prefill` and `decode` tokens. */
  onProgress?: ProgressCallback;
}

interface DecoderLayout {
  /**
   * `present`: the decoder returns the whole cache (`present.*`); `buffer`: only the new positions
   * (`new_key_values.*`); `int8`: int8 buffers updated in place (`present.*` bound to the past, `present_scales.*`).
   */
  kind: 'present' | 'buffer' | 'int8';
  /** Where the cache tensors keep positions ({@link VideoLlavaCache.positionAxis}): 3 for `buffer`, else 2. */
  positionAxis: 2 | 3;
  /** `past_key_values.{i}.key|value` inputs, in the model's order. */
  pastNames: string[];
  /** The output of each past input: `present.*`, or `new_key_values.*` for the buffer layout. */
  presentOf: Record<string, string>;
  dtypes: Record<string, DataType>;
  hasPositionIds: boolean;
  /**
   * The rank of the optional `num_logits_to_keep` input (0: a scalar, 1: `[1]`), `undefined` for a decoder without
   * it (other exporters, or converted with `numLogitsToKeepInput: false`), which returns every position's logits.
   */
  numLogitsToKeepRank: 0 | 1 | undefined;
}

function int64Tensor(value: Tensor<'int64'> | readonly (readonly number[])[], field: string): Tensor<'int64'> {
  if (value instanceof Tensor || (typeof value === 'object' && value !== null && 'dims' in value)) {
    const tensor = value as Tensor;
    if (tensor.dtype !== 'int64' || tensor.dims.length !== 2) {
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `${field} must be an int64 [batch, length] tensor, found ${tensor.dtype}[${tensor.dims.join(', ')}].`,
        { field, expected: 'int64 [batch, length]', actual: `${tensor.dtype}[${tensor.dims.join(', ')}]` },
      );
    }
    return tensor as Tensor<'int64'>;
  }
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((row) => Array.isArray(row) && row.length === (value[0] as readonly number[]).length)
  ) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} must be an int64 tensor or equal-length rows of ids, found ${describeValue(value)}.`,
      { field, expected: '[batch, length] ids', actual: describeValue(value) },
    );
  }
  const rows = value as readonly (readonly number[])[];
  const width = rows[0]!.length;
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((row, index) => row.forEach((id, column) => (data[index * width + column] = BigInt(id))));
  return new Tensor('int64', data, [rows.length, width]);
}

/** What {@link VideoLlavaForConditionalGeneration.runDecoder} takes. */
export interface DecoderRunInput {
  /** float32 `[rows, new, hidden]`. */
  inputsEmbeds: Tensor<'float32'>;
  /** int64 `[rows, past + new]`. */
  attentionMask: Tensor<'int64'>;
  /** int64 `[rows, new]`. */
  positionIds: Tensor<'int64'>;
  /** The cache before the run; ownership moves into the call. */
  cache: VideoLlavaCache;
  /** Return only the last position's logits, `[rows, vocab]` (see `runDecoder`). */
  lastPositionOnly?: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * Hugging Face's `VideoLlavaForConditionalGeneration` on the runtime interface: the CLIP towers with their projector
 * (`image_encoder.onnx`, `video_encoder.onnx`), the token embeddings and the LLaMA decoder with its key/value cache
 * (`embed_tokens.onnx`, `decoder_model_merged.onnx`), laid out as ARCHITECTURE.md's ONNX contract says. It takes a
 * backend and never imports one.
 *
 * It runs the encoders only for requests that bring images or videos, writes their features into the `<image>` /
 * `<video>` positions of the embeddings as the reference's `masked_scatter` does, and exposes the language model to
 * `@video-llava/generation` ({@link languageModel}). {@link generate} keeps the cache of a single-sequence answer so
 * that a follow-up question about the same video reuses it.
 *
 * @example
 * ```ts
 * const model = await VideoLlavaForConditionalGeneration.fromPretrained(source, { backend: createNodeBackend() });
 * const inputs = processor({ text: 'USER: <video>\nWhy is this funny? ASSISTANT:', videos: [video] });
 * const { generatedIds } = await model.generate({ ...inputs, maxNewTokens: 64 });
 * await model.release();
 * ```
 */
export class VideoLlavaForConditionalGeneration implements LanguageModelHost {
  /** The checkpoint's configs. */
  readonly config: PretrainedConfig;
  /** Counters of the work done (encoder runs, prefill tokens, ...). */
  readonly statistics: ModelStatistics = emptyStatistics();
  readonly #sessions: ModelSessions;
  readonly #prefix = new PrefixCacheStore();
  readonly #prefixCacheDefault: boolean;
  readonly #decoderCacheChoice: 'auto' | 'buffer' | 'present' | 'int8';
  #decoderCache: Promise<'buffer' | 'present' | 'int8'> | undefined;
  readonly #prefillChunkSize: number;
  #decoderLayout: DecoderLayout | undefined;

  /**
   * Prefer {@link fromPretrained}. Opens nothing: every part loads on first use.
   */
  constructor(init: {
    config: PretrainedConfig;
    source: ModelSource;
    backend: Backend;
    dtypes?: Readonly<Record<ModelPart, ModelDtype>>;
    sessionOptions?: VideoLlavaModelOptions['sessionOptions'];
    prefixCache?: boolean;
    decoderCache?: VideoLlavaModelOptions['decoderCache'];
    prefillChunkSize?: number | undefined;
    onProgress?: ProgressCallback | undefined;
  }) {
    this.config = init.config;
    this.#prefixCacheDefault = init.prefixCache ?? true;
    this.#decoderCacheChoice = checkDecoderCache(init.decoderCache);
    const chunk = init.prefillChunkSize ?? 128;
    if (!Number.isSafeInteger(chunk) || chunk < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `prefillChunkSize must be a positive integer, found ${describeValue(chunk)}.`,
        { field: 'prefillChunkSize', expected: 'a positive integer', actual: describeValue(chunk) },
      );
    }
    this.#prefillChunkSize = chunk;
    this.#sessions = new ModelSessions({
      source: init.source,
      backend: init.backend,
      dtypes: init.dtypes ?? resolveModelDtypes(undefined),
      sessionOptions: init.sessionOptions ?? {},
      onProgress: init.onProgress,
      config: init.config,
    });
  }

  /**
   * Reads the configs and opens the token embeddings and the decoder (see `preload`); the encoders open when first
   * needed.
   *
   * @param source a converted model folder: a `DirectorySource`, `HttpSource`, `HubSource`, ... of `@video-llava/config`
   * @throws VideoLlavaError from the configs (`INVALID_CONFIG`, ...), `FILE_NOT_FOUND` for a missing ONNX file (a
   *   checkpoint that was not converted), the backend's errors, `INVALID_FILE` for a decoder that breaks the contract
   */
  static async fromPretrained(
    source: ModelSource,
    options: VideoLlavaModelOptions,
  ): Promise<VideoLlavaForConditionalGeneration> {
    if (typeof options?.backend?.createSession !== 'function') {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `options.backend must be a Backend (createNodeBackend() of @video-llava/runtime-node or createWebBackend() of @video-llava/runtime-web), found ${describeValue(options?.backend)}.`,
        {
          field: 'backend',
          expected: 'a Backend',
          actual: describeValue(options?.backend),
        },
      );
    }
    const readOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    const config = options.config ?? (await loadPretrainedConfig(source, readOptions));
    const model = new VideoLlavaForConditionalGeneration({
      config,
      source,
      backend: options.backend,
      dtypes: resolveModelDtypes(options.dtype),
      ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}),
      prefixCache: options.prefixCache ?? true,
      decoderCache: options.decoderCache,
      prefillChunkSize: options.prefillChunkSize,
      onProgress: options.onProgress,
    });
    try {
      const preload = options.preload ?? ['embed_tokens', 'decoder_model_merged'];
      for (const part of preload) {
        if (part === 'decoder_model_merged') await model.#decoder(options.signal);
        else await model.#sessions.get(part, options.signal);
      }
    } catch (error) {
      await model.release();
      throw error;
    }
    return model;
  }

  /** The parts whose ONNX sessions are open. */
  get loadedParts(): ModelPart[] {
    return this.#sessions.loadedParts;
  }

  /** Width of the logits (`text_config.vocab_size`). */
  get vocabSize(): number {
    return this.config.model.textConfig.vocabSize;
  }

  /** Zeroes {@link statistics}. */
  resetStatistics(): void {
    Object.assign(this.statistics, emptyStatistics());
  }

  /**
   * Image features: the CLIP tower, the layer pick and the projector, in one run for all images.
   *
   * @param pixelValuesImages float32 `[images, 3, H, W]`
   * @returns float32 `[images, tokensPerImage, hidden]`
   */
  async encodeImages(
    pixelValuesImages: Tensor<'float32'>,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Tensor<'float32'>> {
    const session = await this.#sessions.get('image_encoder', options.signal);
    const file = this.#sessions.fileDescription('image_encoder');
    const outputs = await session.run(
      { pixel_values: toSessionFloat(session, 'pixel_values', pixelValuesImages, file) },
      { outputs: ['image_features'], ...(options.signal ? { signal: options.signal } : {}) },
    );
    this.statistics.imageEncoderRuns++;
    this.statistics.imagesEncoded += pixelValuesImages.dims[0]!;
    return toFloat32(await toCpuTensor(outputs.image_features!), file, 'image_features');
  }

  /**
   * Video features: every frame through the tower and the projector, frames in order.
   *
   * @param pixelValuesVideos float32 `[videos, frames, 3, H, W]`
   * @returns float32 `[videos, frames * tokensPerFrame, hidden]`
   */
  async encodeVideos(
    pixelValuesVideos: Tensor<'float32'>,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Tensor<'float32'>> {
    const session = await this.#sessions.get('video_encoder', options.signal);
    const file = this.#sessions.fileDescription('video_encoder');
    const outputs = await session.run(
      { pixel_values_videos: toSessionFloat(session, 'pixel_values_videos', pixelValuesVideos, file) },
      { outputs: ['video_features'], ...(options.signal ? { signal: options.signal } : {}) },
    );
    this.statistics.videoEncoderRuns++;
    this.statistics.videosEncoded += pixelValuesVideos.dims[0]!;
    return toFloat32(await toCpuTensor(outputs.video_features!), file, 'video_features');
  }

  /** Token embeddings, float32 `[batch, length, hidden]`, of int64 `[batch, length]` ids. */
  async embedTokens(
    inputIds: Tensor<'int64'>,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Tensor<'float32'>> {
    const session = await this.#sessions.get('embed_tokens', options.signal);
    const file = this.#sessions.fileDescription('embed_tokens');
    const outputs = await session.run(
      { input_ids: inputIds },
      { outputs: ['inputs_embeds'], ...(options.signal ? { signal: options.signal } : {}) },
    );
    return toFloat32(await toCpuTensor(outputs.inputs_embeds!), file, 'inputs_embeds');
  }

  /**
   * Checks that the prompt's `<image>` and `<video>` ids and the media agree in number before anything runs.
   * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH` naming both counts
   */
  checkMediaTokens(inputIds: Tensor<'int64'>, media: PixelInputs): void {
    const counts = countPlaceholders(inputIds.data, {
      imageTokenId: this.config.model.imageTokenIndex,
      videoTokenId: this.config.model.videoTokenIndex,
    });
    const derived = this.config.derived;
    const images = media.pixelValuesImages?.dims[0] ?? 0;
    const expectedImageTokens = images * derived.tokensPerImage;
    if (counts.image !== expectedImageTokens) {
      throw new VideoLlavaError(
        'TOKEN_COUNT_MISMATCH',
        `The prompt has ${counts.image} <image> tokens but ${images} image${images === 1 ? '' : 's'} came with it, which fill ${expectedImageTokens} (${derived.tokensPerImage} per image). Put one <image> in the text per image and let the processor expand it.`,
        { field: 'inputIds', expected: `${expectedImageTokens} <image> tokens`, actual: counts.image },
      );
    }
    const videos = media.pixelValuesVideos?.dims[0] ?? 0;
    const frames = media.pixelValuesVideos?.dims[1] ?? 0;
    const expectedVideoTokens = videos * frames * derived.tokensPerFrame;
    if (counts.video !== expectedVideoTokens) {
      throw new VideoLlavaError(
        'TOKEN_COUNT_MISMATCH',
        `The prompt has ${counts.video} <video> tokens but ${videos} video${videos === 1 ? '' : 's'} came with it, which fill ${expectedVideoTokens} (${frames} frames x ${derived.tokensPerFrame} per frame). Put one <video> in the text per video and let the processor expand it.`,
        { field: 'inputIds', expected: `${expectedVideoTokens} <video> tokens`, actual: counts.video },
      );
    }
  }

  /**
   * What the reference's forward computes before the decoder: the token embeddings with the image and video
   * features written into the placeholder positions.
   *
   * @returns float32 `[batch, length, hidden]`
   * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH` when placeholders and media disagree
   */
  async inputEmbeddings(
    input: {
      inputIds: Tensor<'int64'>;
      signal?: AbortSignal | undefined;
      onProgress?: ProgressCallback | undefined;
    } & PixelInputs,
  ): Promise<Tensor<'float32'>> {
    this.checkMediaTokens(input.inputIds, input);
    const items = (input.pixelValuesImages?.dims[0] ?? 0) + (input.pixelValuesVideos?.dims[0] ?? 0);
    let done = 0;
    if (items > 0) input.onProgress?.({ stage: 'encode', done, total: items, unit: 'items' });
    let imageFeatures: Tensor<'float32'> | undefined;
    let videoFeatures: Tensor<'float32'> | undefined;
    if (input.pixelValuesImages && input.pixelValuesImages.dims[0]! > 0) {
      imageFeatures = await this.encodeImages(input.pixelValuesImages, input);
      done += input.pixelValuesImages.dims[0]!;
      input.onProgress?.({ stage: 'encode', done, total: items, unit: 'items' });
    }
    throwIfAborted(input.signal, 'generation');
    if (input.pixelValuesVideos && input.pixelValuesVideos.dims[0]! > 0) {
      videoFeatures = await this.encodeVideos(input.pixelValuesVideos, input);
      done += input.pixelValuesVideos.dims[0]!;
      input.onProgress?.({ stage: 'encode', done, total: items, unit: 'items' });
    }
    throwIfAborted(input.signal, 'generation');
    const embeds = await this.embedTokens(input.inputIds, input);
    return scatterMediaFeatures(
      embeds,
      input.inputIds,
      { imageTokenId: this.config.model.imageTokenIndex, videoTokenId: this.config.model.videoTokenIndex },
      { imageFeatures, videoFeatures },
    );
  }

  /** A cache of no positions for `rows` sequences, shaped as the decoder's `past_key_values.*` inputs want. */
  async emptyCache(rows: number): Promise<VideoLlavaCache> {
    const layout = this.#layout(await this.#decoder());
    const text = this.config.model.textConfig;
    return emptyCache(layout.pastNames, layout.dtypes, rows, text.numKeyValueHeads, text.headDim, layout.positionAxis);
  }

  /**
   * One decoder run: the embeddings of the new positions on top of `cache`. Ownership of `cache` moves into the
   * call (it is released once the run is done, or if it fails).
   *
   * @param input.inputsEmbeds float32 `[rows, new, hidden]`
   * @param input.attentionMask int64 `[rows, past + new]`
   * @param input.positionIds int64 `[rows, new]`
   * @param input.lastPositionOnly return only the last position's logits, `[rows, vocab]`; a decoder with the
   *   `num_logits_to_keep` input then computes only those (it is fed 1, else 0: every position)
   */
  async runDecoder(input: DecoderRunInput): Promise<DecoderOutput> {
    const session = await this.#decoder(input.signal);
    const layout = this.#layout(session);
    const [rows, length] = input.inputsEmbeds.dims as [number, number];
    const chunk = this.#prefillChunkSize;
    if (layout.kind !== 'buffer' || length <= chunk || input.attentionMask.dims[1] !== input.cache.length + length)
      return this.#runDecoderOnce(input);
    // A long prompt in blocks: each attends to the cache the blocks before it wrote, so the attention scores and the
    // keys and values a run returns stay the size of one block (the same numbers as one run, up to float rounding).
    const width = input.inputsEmbeds.dims[2]!;
    const past = input.cache.length;
    const lastOnly = input.lastPositionOnly === true;
    const blocks: Array<{ logits: Float32Array; positions: number }> = [];
    let cache = input.cache;
    for (let start = 0; start < length; start += chunk) {
      const end = Math.min(length, start + chunk);
      const output = await this.#runDecoderOnce({
        inputsEmbeds: sliceColumns(input.inputsEmbeds, start, end, width),
        attentionMask: sliceColumns(input.attentionMask, 0, past + end, 1),
        positionIds: sliceColumns(input.positionIds, start, end, 1),
        cache,
        // Blocks before the last only fill the cache: their logits are not needed when only the last position's are.
        lastPositionOnly: lastOnly,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      cache = output.cache;
      blocks.push({ logits: output.logits, positions: lastOnly ? 1 : end - start });
    }
    if (lastOnly) return { logits: blocks[blocks.length - 1]!.logits, cache };
    const vocab = blocks[0]!.logits.length / (rows * blocks[0]!.positions);
    const logits = new Float32Array(rows * length * vocab);
    let offset = 0;
    for (const block of blocks) {
      for (let row = 0; row < rows; row++)
        logits.set(
          block.logits.subarray(row * block.positions * vocab, (row + 1) * block.positions * vocab),
          (row * length + offset) * vocab,
        );
      offset += block.positions;
    }
    return { logits, cache };
  }

  /** One decoder run (see {@link runDecoder}). */
  async #runDecoderOnce(input: DecoderRunInput): Promise<DecoderOutput> {
    const { cache } = input;
    let released = false;
    try {
      const session = await this.#decoder(input.signal);
      const layout = this.#layout(session);
      const file = this.#sessions.fileDescription('decoder_model_merged');
      const [rows, length] = input.inputsEmbeds.dims as [number, number];
      if (input.attentionMask.dims[1] !== cache.length + length || cache.rows !== rows) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `The attention mask is [${input.attentionMask.dims.join(', ')}] but the cache holds ${cache.rows} rows of ${cache.length} positions and ${length} new positions come: it must be [${rows}, ${cache.length + length}].`,
          {
            field: 'attentionMask',
            expected: [rows, cache.length + length],
            actual: [...input.attentionMask.dims],
          },
        );
      }
      if (layout.kind === 'int8') {
        released = true;
        return await this.#runInt8Decoder(input, session, layout);
      }
      const feeds: Record<string, RuntimeTensor> = {
        inputs_embeds: toSessionFloat(session, 'inputs_embeds', input.inputsEmbeds, file),
        attention_mask: input.attentionMask,
      };
      if (layout.hasPositionIds) feeds.position_ids = input.positionIds;
      if (layout.numLogitsToKeepRank !== undefined) {
        // transformers' logits_to_keep: 1 for generation (the lm_head over one position, not the whole prompt), 0 for all.
        const count = BigInt64Array.of(input.lastPositionOnly ? 1n : 0n);
        feeds.num_logits_to_keep = new Tensor('int64', count, layout.numLogitsToKeepRank === 0 ? [] : [1]);
      }
      const cacheAxis = cachePositionAxis(cache);
      if (cacheAxis !== layout.positionAxis) {
        throw new VideoLlavaError(
          'SHAPE_MISMATCH',
          `The cache keeps positions on axis ${cacheAxis} but ${file} takes them on axis ${layout.positionAxis}: it was made for the other decoder layout (use this model's emptyCache).`,
          { field: 'cache.positionAxis', expected: layout.positionAxis, actual: cacheAxis },
        );
      }
      for (const name of layout.pastNames) feeds[name] = cache.tensors[name]!;
      if (layout.kind === 'buffer') {
        let capacity = layout.pastNames.length > 0 ? cache.tensors[layout.pastNames[0]!]!.dims[3]! : 0;
        if (capacity === 0) {
          // Over an empty past ONNX Runtime's fused `p V` product (FusedMatMul of a 0-long inner dimension) leaves
          // its output as the arena had it instead of zeros: the first run gets one unfilled, masked position.
          const text = this.config.model.textConfig;
          const unfilled = Tensor.zeros('float32', [rows, text.numKeyValueHeads, text.headDim, 1]);
          for (const name of layout.pastNames) feeds[name] = unfilled;
          capacity = 1;
        }
        feeds.attention_mask = kvBufferAttentionMask(input.attentionMask, cache.length, capacity);
      }
      const outputNames = ['logits', ...layout.pastNames.map((name) => layout.presentOf[name]!)];
      const outputs = await session.run(feeds, {
        outputs: outputNames,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      this.statistics.decoderRuns++;
      let next: VideoLlavaCache;
      if (layout.kind === 'buffer') {
        const fresh: Record<string, Tensor<'float32'>> = {};
        for (const name of layout.pastNames)
          fresh[name] = toFloat32(await toCpuTensor(outputs[layout.presentOf[name]!]!), file, layout.presentOf[name]!);
        // The buffers of `cache` are written in place: it is consumed here.
        next = storeNewPositions(cache, fresh, this.config.model.textConfig.maxPositionEmbeddings);
        released = true;
      } else {
        released = true;
        releaseCacheTensors(cache);
        const tensors: Record<string, RuntimeTensor> = {};
        for (const name of layout.pastNames) tensors[name] = outputs[layout.presentOf[name]!]!;
        next = { tensors, rows, length: cache.length + length };
      }
      let logitsTensor: Tensor<'float32'>;
      try {
        logitsTensor = toFloat32(await toCpuTensor(outputs.logits!), file, 'logits');
      } catch (error) {
        releaseCacheTensors(next);
        throw error;
      }
      const [, positions, vocab] = logitsTensor.dims as [number, number, number];
      const expectedPositions = input.lastPositionOnly && layout.numLogitsToKeepRank !== undefined ? 1 : length;
      if (logitsTensor.dims.length !== 3 || logitsTensor.dims[0] !== rows || positions !== expectedPositions) {
        releaseCacheTensors(next);
        throw new VideoLlavaError(
          'INVALID_FILE',
          `${file} returned logits [${logitsTensor.dims.join(', ')}] for ${rows} rows of ${length} new positions; expected [${rows}, ${expectedPositions}, vocab].`,
          {
            file,
            field: 'logits',
            expected: [rows, expectedPositions, 'vocab'],
            actual: [...logitsTensor.dims],
          },
        );
      }
      const logits = input.lastPositionOnly
        ? lastPositions(logitsTensor.data, rows, positions, vocab)
        : logitsTensor.data;
      return { logits, cache: next };
    } finally {
      if (!released) releaseCacheTensors(cache);
    }
  }

  /**
   * One run of the int8 cache decoder: the cache's int8 buffers (grown when the new positions do not fit) are fed as
   * the past and bound as the present, so the decoder writes the new positions into them; the first run over an
   * empty cache sets the scales, later ones feed them back. `input.cache` is consumed.
   */
  async #runInt8Decoder(
    input: DecoderRunInput,
    session: InferenceSession,
    layout: DecoderLayout,
  ): Promise<DecoderOutput> {
    const file = this.#sessions.fileDescription('decoder_model_merged');
    const text = this.config.model.textConfig;
    const [rows, length] = input.inputsEmbeds.dims as [number, number];
    // The attention mask's shape was checked by #runDecoderOnce.
    const total = input.cache.length + length;
    if (!input.attentionMask.data.every((value) => value === 1n))
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `${file} (decoderCache 'int8') takes rows without padding, and this attention mask has some: prompts of different lengths need decoderCache 'buffer'.`,
        { field: 'attentionMask', expected: 'every position 1', actual: 'padding (0s)' },
      );
    if (input.cache.length > 0 && input.cache.scales === undefined)
      throw new VideoLlavaError(
        'SHAPE_MISMATCH',
        `The cache holds ${input.cache.length} positions but no int8 scales: it was not made by ${file} (use this model's emptyCache).`,
        { field: 'cache.scales', expected: 'the scales of the int8 cache', actual: undefined },
      );
    const cache = withInt8Capacity(input.cache, total, text.maxPositionEmbeddings);
    const feeds: Record<string, RuntimeTensor> = {
      inputs_embeds: toSessionFloat(session, 'inputs_embeds', input.inputsEmbeds, file),
      seqlens_k: new Tensor('int32', new Int32Array(rows).fill(total - 1), [rows]),
      total_sequence_length: new Tensor('int32', Int32Array.of(total), []),
    };
    if (layout.hasPositionIds) feeds.position_ids = input.positionIds;
    const kept = input.lastPositionOnly && layout.numLogitsToKeepRank !== undefined ? 1 : length;
    if (layout.numLogitsToKeepRank !== undefined)
      feeds.num_logits_to_keep = new Tensor(
        'int64',
        BigInt64Array.of(input.lastPositionOnly ? 1n : 0n),
        layout.numLogitsToKeepRank === 0 ? [] : [1],
      );
    const logits = new Tensor('float32', new Float32Array(rows * kept * text.vocabSize), [rows, kept, text.vocabSize]);
    const outputBuffers: Record<string, Tensor> = { logits };
    const scaleDims = [text.numKeyValueHeads, 1, text.headDim];
    const scales: Record<string, Tensor<'float32'>> = {};
    for (const name of layout.pastNames) {
      const buffer = cache.tensors[name] as Tensor<'int8'>;
      feeds[name] = buffer;
      outputBuffers[layout.presentOf[name]!] = buffer;
      const scaleName = name.replace(/^past_key_values\./, 'kv_scales.');
      feeds[scaleName] = cache.scales?.[name] ?? Tensor.zeros('float32', scaleDims);
      scales[name] = Tensor.zeros('float32', scaleDims);
      outputBuffers[name.replace(/^past_key_values\./, 'present_scales.')] = scales[name]!;
    }
    await session.run(feeds, {
      outputs: ['logits'],
      outputBuffers,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    this.statistics.decoderRuns++;
    return {
      logits: input.lastPositionOnly ? lastPositions(logits.data, rows, kept, text.vocabSize) : logits.data,
      cache: { tensors: cache.tensors, rows, length: total, scales: input.cache.length === 0 ? scales : cache.scales! },
    };
  }

  /**
   * The language model for one request, as `@video-llava/generation` wants it: its prefill encodes the request's
   * images and videos and writes them into the prompt (reusing the cached prefix when `prefixCache` allows), its
   * steps feed the cache back.
   */
  languageModel(media: MediaInputs = {}): VideoLlavaLanguageModel {
    return new VideoLlavaLanguageModel(this, media, this.#prefix);
  }

  /**
   * transformers' `model.generate(**inputs, ...)`: greedy search, sampling, beam search, with the options of
   * `@video-llava/generation` (`generation_config.json` gives the defaults). An aborted `signal` resolves with the
   * tokens so far. With the prefix cache on and a single sequence, the cache is kept for the next call.
   *
   * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH`, `SEQUENCE_TOO_LONG`, `INVALID_ARGUMENT`, `RUNTIME_ERROR`, ...
   */
  async generate(options: VideoLlavaGenerateOptions): Promise<GenerationResult> {
    const prepared = this.#prepare(options);
    const result = await generate(prepared.options);
    return this.#settle(result, prepared);
  }

  /**
   * {@link generate}, streamed: tokens (and text, with `createDetokenizer`) as they come, then `result`.
   */
  stream(options: VideoLlavaGenerateOptions): GenerationStream {
    const prepared = this.#prepare(options);
    const inner = streamGeneration(prepared.options);
    let settle!: (result: Promise<GenerationResult>) => void;
    const result = new Promise<GenerationResult>((resolve) => (settle = resolve));
    const settled = (value: GenerationResult<VideoLlavaCache>): GenerationResult => this.#settle(value, prepared);
    async function* deltas(): AsyncGenerator<GenerationDelta, void, void> {
      try {
        yield* inner;
      } finally {
        // Also when the reader stops early (or only reads the result): the kept cache must never leak.
        settle(inner.result.then(settled));
      }
    }
    return singlePassStream(deltas(), result);
  }

  /** Forgets the cached prefix (and frees its memory). */
  clearPrefixCache(): void {
    this.#prefix.set(undefined);
  }

  /** How many positions the cached prefix holds (0 when there is none). */
  get prefixCacheLength(): number {
    return this.#prefix.entry?.cache.length ?? 0;
  }

  /** Frees the sessions and the cached prefix. The model cannot run afterwards (`SESSION_RELEASED`). */
  async release(): Promise<void> {
    this.#prefix.set(undefined);
    await this.#sessions.release();
  }

  /** Whether {@link release} was called. */
  get released(): boolean {
    return this.#sessions.released;
  }

  #prepare(options: VideoLlavaGenerateOptions): {
    options: GenerateOptions<VideoLlavaCache>;
    keep: boolean;
    inputIds: Tensor<'int64'>;
    attentionMask: Tensor<'int64'> | undefined;
    media: PixelInputs;
  } {
    if (typeof options !== 'object' || options === null) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `generate takes an options object { inputIds, ... }, found ${describeValue(options)}.`,
        { field: 'options', expected: '{ inputIds, ... }', actual: describeValue(options) },
      );
    }
    const {
      pixelValuesImages,
      pixelValuesVideos,
      prefixCache,
      inputIds: rawIds,
      attentionMask: rawMask,
      ...rest
    } = options;
    const inputIds = int64Tensor(rawIds, 'inputIds');
    const attentionMask = rawMask === undefined ? undefined : int64Tensor(rawMask, 'attentionMask');
    const media: PixelInputs = { pixelValuesImages, pixelValuesVideos };
    this.checkMediaTokens(inputIds, media);
    const usePrefix = prefixCache ?? this.#prefixCacheDefault;
    const keep = usePrefix && inputIds.dims[0] === 1;
    const model = this.languageModel({ ...media, prefixCache: usePrefix, onProgress: options.onProgress });
    return {
      options: {
        generationConfig: this.config.generation,
        ...rest,
        inputIds,
        ...(attentionMask ? { attentionMask } : {}),
        model,
        keepCache: keep,
      },
      keep,
      inputIds,
      attentionMask,
      media,
    };
  }

  #settle(
    result: GenerationResult<VideoLlavaCache>,
    prepared: {
      keep: boolean;
      inputIds: Tensor<'int64'>;
      attentionMask: Tensor<'int64'> | undefined;
      media: PixelInputs;
    },
  ): GenerationResult {
    const { cache, cacheLength, ...rest } = result;
    if (cache === undefined) return rest;
    const promptFullyReal =
      prepared.attentionMask === undefined || prepared.attentionMask.data.every((value) => value === 1n);
    if (!prepared.keep || cache.rows !== 1 || cacheLength === undefined || !promptFullyReal || this.released) {
      releaseCacheTensors(cache);
      return rest;
    }
    const promptLength = prepared.inputIds.dims[1]!;
    const tokens = new Int32Array(cacheLength);
    for (let position = 0; position < promptLength; position++)
      tokens[position] = Number(prepared.inputIds.data[position]!);
    const generated = result.generatedIds[0]!;
    for (let position = promptLength; position < cacheLength; position++)
      tokens[position] = generated[position - promptLength]!;
    this.#prefix.set({
      tokens,
      cache,
      pixelValuesImages: prepared.media.pixelValuesImages,
      pixelValuesVideos: prepared.media.pixelValuesVideos,
    });
    return rest;
  }

  async #decoder(signal?: AbortSignal): Promise<InferenceSession> {
    this.#decoderCache ??= resolveDecoderCache(this.#decoderCacheChoice, this.#sessions);
    const choice = await this.#decoderCache;
    const session =
      choice === 'buffer'
        ? (await this.#sessions.getVariant('decoder_model_merged', KV_BUFFER_DECODER_STEM, signal)).session
        : choice === 'int8'
          ? (
              await this.#sessions.getVariant('decoder_model_merged', INT8_CACHE_DECODER_STEM, signal, {
                fallback: false,
                // The present buffers are the past ones: written in place where the backend can.
                sessionOptions: { inPlaceOutputs: this.#sessions.backendInPlaceOutputs },
              })
            ).session
          : await this.#sessions.get('decoder_model_merged', signal);
    this.#layout(session);
    return session;
  }

  /**
   * Which decoder layout runs (`buffer` when `decoder_kv_buffer*.onnx` was opened, `int8` for
   * `decoder_kv_int8*.onnx`); `undefined` before it is opened.
   */
  get decoderCacheLayout(): 'present' | 'buffer' | 'int8' | undefined {
    return this.#decoderLayout?.kind;
  }

  #layout(session: InferenceSession): DecoderLayout {
    if (this.#decoderLayout) return this.#decoderLayout;
    const file = this.#sessions.fileDescription('decoder_model_merged');
    const pastNames = session.inputNames.filter((name) => /^past_key_values\.\d+\.(key|value)$/.test(name));
    const presentOf: Record<string, string> = {};
    const missing: string[] = [];
    const kind: DecoderLayout['kind'] = session.outputNames.some((name) => name.startsWith('new_key_values.'))
      ? 'buffer'
      : session.inputNames.includes('seqlens_k')
        ? 'int8'
        : 'present';
    const inputs =
      kind === 'int8' ? ['inputs_embeds', 'seqlens_k', 'total_sequence_length'] : ['inputs_embeds', 'attention_mask'];
    for (const name of inputs) if (!session.inputNames.includes(name)) missing.push(`input ${name}`);
    if (!session.outputNames.includes('logits')) missing.push('output logits');
    for (const name of pastNames) {
      const present = name.replace(/^past_key_values\./, kind === 'buffer' ? 'new_key_values.' : 'present.');
      presentOf[name] = present;
      if (!session.outputNames.includes(present)) missing.push(`output ${present}`);
      if (kind === 'int8') {
        const scale = name.replace(/^past_key_values\./, 'kv_scales.');
        if (!session.inputNames.includes(scale)) missing.push(`input ${scale}`);
        const used = name.replace(/^past_key_values\./, 'present_scales.');
        if (!session.outputNames.includes(used)) missing.push(`output ${used}`);
      }
    }
    const text = this.config.model.textConfig;
    const layers = text.numHiddenLayers;
    if (pastNames.length !== 2 * layers)
      missing.push(`${2 * layers} past_key_values inputs (found ${pastNames.length})`);
    // The empty cache is shaped from config.json ([rows, num_key_value_heads, 0, head_dim]): a decoder declaring
    // other fixed sizes was converted from another config, and would fail on the first run with a less clear error.
    // The buffer decoder keeps positions last ([batch, kvHeads, headDim, capacity]).
    for (const name of pastNames) {
      const shape = session.inputMetadata.find((value) => value.name === name)?.shape ?? [];
      if (shape.length !== 4) continue;
      const [, heads, third, fourth] = shape;
      const width = kind === 'buffer' ? third : fourth;
      if (kind === 'buffer' && typeof third !== 'number' && typeof fourth === 'number') {
        throw new VideoLlavaError(
          'INVALID_FILE',
          `${file} declares ${name} as [${shape.join(', ')}], positions before channels: a buffer decoder written by an earlier converter. This version keeps the cache channel-major ([batch, kvHeads, headDim, capacity]); convert the checkpoint again, or load with decoderCache: 'present'.`,
          {
            file,
            field: name,
            expected: `[batch, ${text.numKeyValueHeads}, ${text.headDim}, capacity]`,
            actual: `[${shape.join(', ')}]`,
          },
        );
      }
      if (
        (typeof heads === 'number' && heads !== text.numKeyValueHeads) ||
        (typeof width === 'number' && width !== text.headDim)
      ) {
        throw new VideoLlavaError(
          'INVALID_FILE',
          `${file} declares ${name} as [${shape.join(', ')}], but config.json says ${text.numKeyValueHeads} key/value heads (text_config.num_key_value_heads) of ${text.headDim} values (text_config.head_dim): the decoder was converted from another config.`,
          {
            file,
            field: name,
            expected:
              kind === 'buffer'
                ? `[batch, ${text.numKeyValueHeads}, ${text.headDim}, capacity]`
                : `[batch, ${text.numKeyValueHeads}, past, ${text.headDim}]`,
            actual: `[${shape.join(', ')}]`,
          },
        );
      }
    }
    if (missing.length > 0) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file} does not follow the decoder contract (inputs_embeds, attention_mask, position_ids, past_key_values.{i}.key|value -> logits, present.{i}.key|value): missing ${missing.join(', ')}.`,
        {
          file,
          expected: 'the decoder_model_merged contract of ARCHITECTURE.md',
          actual: `inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')}`,
        },
      );
    }
    const dtypes: Record<string, DataType> = {};
    for (const name of pastNames) dtypes[name] = inputDtype(session, name) as DataType;
    const notInt8 = pastNames.find((name) => dtypes[name] !== 'int8');
    if (kind === 'int8' && notInt8 !== undefined) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file} declares ${notInt8} as ${dtypes[notInt8]}; the int8 cache decoder takes an int8 cache.`,
        { file, field: notInt8, expected: 'int8', actual: dtypes[notInt8] },
      );
    }
    const notFloat32 = pastNames.find((name) => dtypes[name] !== 'float32');
    if (kind === 'buffer' && notFloat32 !== undefined) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `${file} declares ${notFloat32} as ${dtypes[notFloat32]}; a decoder with new_key_values outputs takes a float32 cache.`,
        { file, field: notFloat32, expected: 'float32', actual: dtypes[notFloat32] },
      );
    }
    let numLogitsToKeepRank: DecoderLayout['numLogitsToKeepRank'];
    if (session.inputNames.includes('num_logits_to_keep')) {
      const metadata = session.inputMetadata.find((value) => value.name === 'num_logits_to_keep');
      if (
        metadata?.dtype !== 'int64' ||
        (metadata.shape.length !== 0 &&
          (metadata.shape.length !== 1 || (typeof metadata.shape[0] === 'number' && metadata.shape[0] !== 1)))
      ) {
        const actual = metadata ? `${metadata.dtype}[${metadata.shape.join(', ')}]` : 'no metadata';
        throw new VideoLlavaError(
          'INVALID_FILE',
          `${file} declares num_logits_to_keep as ${actual}; the decoder contract wants an int64 scalar (or [1]).`,
          { file, field: 'num_logits_to_keep', expected: 'int64 scalar or [1]', actual },
        );
      }
      numLogitsToKeepRank = metadata.shape.length === 0 ? 0 : 1;
    }
    this.#decoderLayout = {
      kind,
      positionAxis: kind === 'buffer' ? 3 : 2,
      pastNames,
      presentOf,
      dtypes,
      hasPositionIds: session.inputNames.includes('position_ids'),
      numLogitsToKeepRank,
    };
    return this.#decoderLayout;
  }
}

/** The last position's logits of each row of `[rows, positions, vocab]` logits (`logits` itself for one position). */
function lastPositions(logits: Float32Array, rows: number, positions: number, vocab: number): Float32Array {
  if (positions === 1) return logits;
  const last = new Float32Array(rows * vocab);
  for (let row = 0; row < rows; row++)
    last.set(
      logits.subarray((row * positions + positions - 1) * vocab, (row * positions + positions) * vocab),
      row * vocab,
    );
  return last;
}

/** The stem of the decoder file with the key/value buffer layout (`@video-llava/converter`'s `KV_BUFFER_DECODER_STEM`). */
export const KV_BUFFER_DECODER_STEM = 'decoder_kv_buffer';

/** The stem of the decoder file with the int8 cache (`@video-llava/converter`'s `INT8_CACHE_DECODER_STEM`). */
export const INT8_CACHE_DECODER_STEM = 'decoder_kv_int8';

/** {@link VideoLlavaModelOptions.decoderCache}, checked. */
function checkDecoderCache(choice: VideoLlavaModelOptions['decoderCache']): 'auto' | 'buffer' | 'present' | 'int8' {
  if (choice === undefined) return 'auto';
  if (choice === 'auto' || choice === 'buffer' || choice === 'present' || choice === 'int8') return choice;
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `decoderCache must be 'auto', 'buffer', 'present' or 'int8', found ${describeValue(choice)}.`,
    { field: 'decoderCache', expected: ['auto', 'buffer', 'present', 'int8'], actual: describeValue(choice) },
  );
}

/** `'auto'` as {@link VideoLlavaModelOptions.decoderCache} documents it. */
async function resolveDecoderCache(
  choice: 'auto' | 'buffer' | 'present' | 'int8',
  sessions: ModelSessions,
): Promise<'buffer' | 'present' | 'int8'> {
  if (choice !== 'auto') return choice;
  if (sessions.backendName !== 'onnxruntime-node') return 'present';
  // The provider the decoder would really run on: onnxruntime-node's default list starts with CUDA, which most
  // machines lack.
  const provider = await sessions.executionProviderFor('decoder_model_merged');
  return provider === undefined || provider === 'cpu' ? 'buffer' : 'present';
}
