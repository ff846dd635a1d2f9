import type { ModelSource, PretrainedConfig } from '@video-llava/config';
import { type ProgressCallback, VideoLlavaError, type WarningCallback, describeValue } from '@video-llava/core';
import {
  type FinishReason,
  type GenerationDelta,
  type GenerationOptions,
  type GenerationResult,
  type GenerationStep,
  singlePassStream,
} from '@video-llava/generation';
import {
  type ModelDtypeChoice,
  type ModelPart,
  VideoLlavaForConditionalGeneration,
  type VideoLlavaGenerateOptions,
} from '@video-llava/model';
import { type ChatMessage, VideoLlavaProcessor } from '@video-llava/processor';
import type { Backend, SessionOptions } from '@video-llava/runtime';
import { withCacheOnWebGpu } from './cache-on-web-gpu.js';
import { type ImageInput, type VideoInput, imagePixelValues, videoPixelValues } from './media-inputs.js';
import type { SourceOptions, VideoLlavaPlatform } from './platform.js';

/** Options of `VideoLlava.load`. */
export interface VideoLlavaLoadOptions {
  /**
   * The runtime that runs the ONNX files.
   * @default the entry's: `createNodeBackend()` (`video-llava`) or `createWebBackend()` (`video-llava/web`)
   */
  backend?: Backend;
  /**
   * Which file variant of each part (`fp32`, `fp16`, `q8`, `q4`, ...), one for all or one per part.
   * @default 'fp32'
   */
  dtype?: ModelDtypeChoice;
  /**
   * Session options for every part (execution providers, threads, ...), or a function giving each its own.
   * `video-llava/web` keeps the decoder's key/value cache on the GPU when WebGPU is the decoder's first execution
   * provider (`outputLocation` of its `present.*` outputs); an `outputLocation` given here is used instead.
   * @default {}
   */
  sessionOptions?: SessionOptions | ((part: ModelPart) => SessionOptions);
  /**
   * Parts opened while loading; the others open when first needed (the image encoder when an image comes).
   * @default ['embed_tokens', 'decoder_model_merged']
   */
  preload?: readonly ModelPart[];
  /**
   * Keep the cache of the last single answer so that a follow-up about the same video skips re-encoding it.
   * @default true
   */
  prefixCache?: boolean;
  /**
   * Which decoder keeps the key/value cache (`@video-llava/model`'s option): `'buffer'` (`decoder_kv_buffer*.onnx`,
   * the cache in buffers written in place; the fast path on CPUs), `'present'` (`decoder_model_merged*.onnx`, the
   * whole cache returned every step; kept on the GPU by WebGPU), `'auto'` (buffer on onnxruntime-node's CPU),
   * `'int8'` (`decoder_kv_int8*.onnx`: the cache as int8, a quarter of the bytes a decoding step reads; not exact,
   * see `@video-llava/model`; prompts without padding).
   * @default 'auto'
   */
  decoderCache?: 'auto' | 'buffer' | 'present' | 'int8';
  /** How a string source is resolved (working folder, hub cache, token, ...). */
  sourceOptions?: SourceOptions;
  /** Progress while loading: `download` (bytes, per file) and `load` (one item per ONNX file opened). */
  onProgress?: ProgressCallback;
  /** Cancels loading (`ABORTED`). */
  signal?: AbortSignal;
}

/** One question: a prompt (or chat messages) with its videos and images, and the decoding options. */
export interface VideoLlavaRequest extends GenerationOptions {
  /**
   * The prompt as the model sees it, with one `<video>` per video and one `<image>` per image
   * (`USER: <video>\nWhy is this funny? ASSISTANT:`). A list asks several prompts at once (a left-padded batch).
   */
  prompt?: string | readonly string[];
  /**
   * Chat messages, turned into the prompt by the checkpoint's chat template (Video-LLaVA's `USER: ... ASSISTANT:`
   * format when it has none). Give `prompt` or `messages`.
   */
  messages?: readonly ChatMessage[];
  /** The videos, in the order of the `<video>` placeholders. */
  videos?: VideoInput | readonly VideoInput[];
  /** The images, in the order of the `<image>` placeholders. */
  images?: ImageInput | readonly ImageInput[];
  /**
   * Leave special tokens (`</s>`) out of the text.
   * @default true
   */
  skipSpecialTokens?: boolean;
  /**
   * Reuse the cache of the previous answer when this prompt starts with it, and keep this one's.
   * @default the `prefixCache` load option
   */
  prefixCache?: boolean;
  /** Cancels: the answer so far is returned (finish reason `abort`), everything held is released. */
  signal?: AbortSignal;
  /**
   * Progress: `decode-video` / `decode-image` (items), `encode` (items through the vision encoders), `prefill`
   * (prompt tokens), `decode` (new tokens).
   */
  onProgress?: ProgressCallback;
  /**
   * Receives warnings about the media as they are decoded: `FRAMES_REPEATED` (a video shorter than the frames
   * sampled), `MEDIA_DAMAGED` (part of a file could not be read; the rest was used).
   */
  onWarning?: WarningCallback;
  /** Called at every step with the logits and processed scores (e.g. to record the top tokens). */
  onStep?: (step: GenerationStep) => void | Promise<void>;
}

/** One generated sequence. */
export interface VideoLlavaSequence {
  /** Its text. */
  text: string;
  /** Its new token ids (up to and including the end-of-sequence id; no padding). */
  ids: number[];
  /** Why it ended. */
  finishReason: FinishReason;
}

/** What `generate` returns. */
export interface VideoLlavaAnswer extends VideoLlavaSequence {
  /** Every sequence (one per prompt, times `numReturnSequences`); the fields above are the first one's. */
  sequences: VideoLlavaSequence[];
  /** The prompt text(s) given to the processor. */
  prompt: string[];
  /** Prompt length in tokens (after the `<image>` / `<video>` expansion and padding). */
  promptTokens: number;
  /** The sampling seed (sampling only): pass it back to get the same answer. */
  seed?: number | undefined;
}

/** A streamed answer: text deltas as tokens come, then the answer. Breaking out of the loop stops the generation. */
export interface VideoLlavaStream extends AsyncIterable<GenerationDelta> {
  /** The whole answer, once the generation is over. */
  readonly result: Promise<VideoLlavaAnswer>;
}

type PreparedRequest = { options: VideoLlavaGenerateOptions; prompt: string[]; skipSpecialTokens: boolean };

/**
 * Video-LLaVA, ready to answer: the processor (tokenizer, image and video processors) and the model on a backend.
 * The entries export it as `VideoLlava` with their platform wired in: `video-llava` for Node.js, `video-llava/web`
 * for browsers.
 */
export class VideoLlavaPipeline {
  /** The platform of the entry (backend, media loaders); set by the entry's subclass. @internal */
  static platform: VideoLlavaPlatform | undefined;
  /** The processor: prompts, tokenizer, image and video processors. */
  readonly processor: VideoLlavaProcessor;
  /** The model on its backend. */
  readonly model: VideoLlavaForConditionalGeneration;
  readonly #platform: VideoLlavaPlatform;

  /** Prefer `VideoLlava.load`. */
  constructor(platform: VideoLlavaPlatform, processor: VideoLlavaProcessor, model: VideoLlavaForConditionalGeneration) {
    this.#platform = platform;
    this.processor = processor;
    this.model = model;
  }

  /**
   * Loads a converted model: its configs, tokenizer and processors, and the ONNX parts it needs first.
   *
   * @param source a converted model folder (path), an http(s) URL, a hub id (`org/name[@revision]`) or a `ModelSource`
   * @throws VideoLlavaError `FILE_NOT_FOUND` (a checkpoint that was not converted says how to convert it),
   *   `INVALID_CONFIG`, `DOWNLOAD_FAILED`, `ABORTED`, the backend's errors
   */
  static async load<T extends VideoLlavaPipeline>(
    this: {
      new (platform: VideoLlavaPlatform, processor: VideoLlavaProcessor, model: VideoLlavaForConditionalGeneration): T;
      platform: VideoLlavaPlatform | undefined;
    },
    source: string | ModelSource,
    options: VideoLlavaLoadOptions = {},
  ): Promise<T> {
    const platform = this.platform;
    if (platform === undefined) {
      throw new VideoLlavaError(
        'UNSUPPORTED',
        'VideoLlavaPipeline has no platform: import VideoLlava from "video-llava" (Node.js) or "video-llava/web" (browsers).',
        {
          field: 'platform',
          expected: 'VideoLlava of an entry',
          actual: undefined,
        },
      );
    }
    const resolved = platform.resolveSource(source, options.sourceOptions ?? {});
    const readOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    const processor = await VideoLlavaProcessor.fromPretrained(resolved, readOptions);
    const backend = options.backend ?? platform.createBackend();
    const sessionOptions = platform.cacheOnWebGpu
      ? withCacheOnWebGpu(options.sessionOptions, backend, processor.config)
      : options.sessionOptions;
    let model: VideoLlavaForConditionalGeneration;
    try {
      model = await VideoLlavaForConditionalGeneration.fromPretrained(resolved, {
        backend,
        config: processor.config,
        ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
        ...(sessionOptions === undefined ? {} : { sessionOptions }),
        ...(options.preload === undefined ? {} : { preload: options.preload }),
        prefixCache: options.prefixCache ?? true,
        ...(options.decoderCache === undefined ? {} : { decoderCache: options.decoderCache }),
        ...readOptions,
      });
    } catch (error) {
      throw await explainUnconverted(error, resolved);
    }
    return new this(platform, processor, model);
  }

  /** The checkpoint's configs. */
  get config(): PretrainedConfig {
    return this.processor.config;
  }

  /**
   * Answers: formats the prompt, decodes and processes the media, encodes them, generates. An aborted `signal`
   * resolves with the answer so far (finish reason `abort`), even while the media are still being decoded.
   *
   * @example
   * ```ts
   * const answer = await model.generate({ prompt: 'USER: <video>\nWhy is this funny? ASSISTANT:', videos: ['clip.mp4'], maxNewTokens: 64 });
   * console.log(answer.text);
   * ```
   * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH` (placeholders and media disagree), `SEQUENCE_TOO_LONG` (the
   *   prompt does not fit the model), `DECODE_FAILED` / `INVALID_FILE` (a video or image that cannot be decoded),
   *   `INVALID_ARGUMENT`, `RUNTIME_ERROR`
   */
  async generate(request: VideoLlavaRequest): Promise<VideoLlavaAnswer> {
    let prepared: PreparedRequest;
    try {
      prepared = await this.#prepare(request);
    } catch (error) {
      return abortedBeforeGeneration(error, request);
    }
    const result = await this.model.generate(prepared.options);
    return this.#answer(result, prepared);
  }

  /**
   * {@link generate}, streamed.
   *
   * @example
   * ```ts
   * const stream = model.stream({ messages, videos: ['clip.mp4'] });
   * for await (const delta of stream) process.stdout.write(delta.text);
   * const { ids } = await stream.result;
   * ```
   */
  stream(request: VideoLlavaRequest): VideoLlavaStream {
    let resolveResult!: (value: VideoLlavaAnswer) => void;
    let rejectResult!: (error: unknown) => void;
    const result = new Promise<VideoLlavaAnswer>((resolve, reject) => {
      resolveResult = resolve;
      rejectResult = reject;
    });
    const self = this;
    async function* deltas(): AsyncGenerator<GenerationDelta, void, void> {
      try {
        let prepared: PreparedRequest;
        try {
          prepared = await self.#prepare(request);
        } catch (error) {
          resolveResult(abortedBeforeGeneration(error, request));
          return;
        }
        const inner = self.model.stream(prepared.options);
        try {
          yield* inner;
        } finally {
          // Read after the deltas (reading it first would drain them); a reader that stopped early still settles it.
          inner.result.then((value) => resolveResult(self.#answer(value, prepared)), rejectResult);
        }
        await result;
      } catch (error) {
        rejectResult(error);
        throw error;
      }
    }
    return singlePassStream(deltas(), result);
  }

  /** Forgets the cached prefix of the last answer. */
  clearPrefixCache(): void {
    this.model.clearPrefixCache();
  }

  /** Frees the model's sessions and caches. */
  async release(): Promise<void> {
    await this.model.release();
  }

  async #prepare(request: VideoLlavaRequest): Promise<PreparedRequest> {
    if (typeof request !== 'object' || request === null) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `generate takes a request { prompt | messages, videos, images, ... }, found ${describeValue(request)}.`,
        { field: 'request', expected: '{ prompt | messages, ... }', actual: describeValue(request) },
      );
    }
    const {
      prompt,
      messages,
      videos,
      images,
      skipSpecialTokens,
      prefixCache,
      signal,
      onProgress,
      onWarning,
      onStep,
      ...generation
    } = request;
    if ((prompt === undefined) === (messages === undefined)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Give either prompt or messages${prompt === undefined ? '' : ', not both'}.`,
        {
          field: 'prompt',
          expected: 'prompt or messages',
          actual: prompt === undefined ? 'neither' : 'both',
        },
      );
    }
    // Chat messages keep the user's text as text: a `<video>` typed in a question is not a placeholder.
    const chatPrompt = prompt === undefined ? await this.processor.applyChatTemplateAsPrompt(messages!) : undefined;
    const texts = prompt !== undefined ? (typeof prompt === 'string' ? [prompt] : [...prompt]) : [chatPrompt!.text];
    const context = { platform: this.#platform, processor: this.processor, signal, onProgress, onWarning };
    const pixelValuesVideos = await videoPixelValues(videos, context);
    const pixelValuesImages = await imagePixelValues(images, context);
    const inputs = this.processor({
      text: chatPrompt ? [chatPrompt] : texts,
      ...(pixelValuesImages ? { pixelValuesImages } : {}),
      ...(pixelValuesVideos ? { pixelValuesVideos } : {}),
    });
    const skip = skipSpecialTokens ?? true;
    const tokenizer = this.processor.tokenizer;
    return {
      prompt: texts,
      skipSpecialTokens: skip,
      options: {
        ...generation,
        ...inputs,
        ...(prefixCache === undefined ? {} : { prefixCache }),
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
        ...(onStep ? { onStep } : {}),
        createDetokenizer: () => tokenizer.createStreamDecoder({ skipSpecialTokens: skip }),
        decode: (ids: ArrayLike<number>) => tokenizer.decode(ids, { skipSpecialTokens: skip }),
      },
    };
  }

  #answer(result: GenerationResult, prepared: PreparedRequest): VideoLlavaAnswer {
    const sequences = result.generatedIds.map((ids, index): VideoLlavaSequence => {
      const real = ids.slice(0, result.lengths[index]);
      return {
        ids: real,
        text: this.processor.decode(real, { skipSpecialTokens: prepared.skipSpecialTokens }),
        finishReason: result.finishReasons[index]!,
      };
    });
    const first = sequences[0]!;
    return { ...first, sequences, prompt: prepared.prompt, promptTokens: result.promptLength, seed: result.seed };
  }
}

/**
 * An abort while the media were still being decoded: an answer with no tokens (finish reason `abort`), as an abort
 * during the generation gives the tokens so far. Any other error is thrown.
 */
function abortedBeforeGeneration(error: unknown, request: VideoLlavaRequest): VideoLlavaAnswer {
  if (!(request.signal?.aborted && VideoLlavaError.isInstance(error) && error.code === 'ABORTED')) throw error;
  const prompt =
    request.prompt === undefined ? [] : typeof request.prompt === 'string' ? [request.prompt] : [...request.prompt];
  const sequences = Array.from(
    { length: Math.max(1, prompt.length) * (request.numReturnSequences ?? 1) },
    (): VideoLlavaSequence => ({ text: '', ids: [], finishReason: 'abort' }),
  );
  return { ...sequences[0]!, sequences, prompt, promptTokens: 0 };
}

/**
 * How to convert the checkpoint `source` holds, as `video-llava convert` takes it: a folder or a hub id, never a URL
 * (a hub source's description is its `resolve` URL, so its repository is named instead).
 */
function conversionHint(source: ModelSource): string {
  const library = '(or convertCheckpoint of @video-llava/converter/node)';
  const hub = source as { repo?: unknown; revision?: unknown };
  if (typeof hub.repo === 'string') {
    const id = typeof hub.revision === 'string' && hub.revision !== 'main' ? `${hub.repo}@${hub.revision}` : hub.repo;
    return `Convert it first: \`video-llava convert ${id} <output-folder>\` ${library}, then load the output folder.`;
  }
  if (typeof (source as { fileUrl?: unknown }).fileUrl === 'function') {
    return `\`video-llava convert\` reads a checkpoint folder or a hub id, not a URL: download the checkpoint and convert its folder (\`video-llava convert <checkpoint-folder> <output-folder>\`, or convertCheckpoint of @video-llava/converter/node), or, if it is on the Hugging Face Hub, convert it by its id (\`video-llava convert org/name <output-folder>\`); then load the output folder (or serve it and load its URL).`;
  }
  return `Convert it first: \`video-llava convert ${source.description} <output-folder>\` ${library}, then load the output folder.`;
}

/** A missing ONNX file in a folder that holds a safetensors checkpoint: say to convert it. */
async function explainUnconverted(error: unknown, source: ModelSource): Promise<unknown> {
  if (!VideoLlavaError.isInstance(error) || error.code !== 'FILE_NOT_FOUND' || !/onnx\//.test(error.file ?? ''))
    return error;
  let raw = false;
  try {
    raw = (await source.exists('model.safetensors')) || (await source.exists('model.safetensors.index.json'));
  } catch {
    return error;
  }
  if (!raw) return error;
  return new VideoLlavaError(
    'FILE_NOT_FOUND',
    `${source.description} is a Hugging Face checkpoint (model.safetensors) without the ONNX files video-llava.js runs (${error.file}). ${conversionHint(source)}`,
    {
      file: error.file,
      field: 'source',
      expected: 'a converted model folder (onnx/*.onnx)',
      actual: 'a safetensors checkpoint',
      cause: error,
    },
  );
}
