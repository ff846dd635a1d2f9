import {
  loadPretrainedConfig,
  readJsonFile,
  type ModelSource,
  type PretrainedConfig,
  type ReadOptions,
} from '@video-llava/config';
import { Tensor, VideoLlavaError, describeValue } from '@video-llava/core';
import { type RawImage, VideoLlavaImageProcessor } from '@video-llava/image-processor';
import { type VideoFrames, VideoLlavaVideoProcessor } from '@video-llava/video-processor';
import type { ChatMessage } from './chat-message.js';
import { expandMediaTokens } from './expand-media-tokens.js';
import { padSequences, type PaddingStrategy } from './pad-sequences.js';
import { type PromptText, collectLiteralRanges, isPromptText, markLiteralText } from './prompt-text.js';
import { renderChatTemplate } from './render-chat-template.js';
import { Tokenizer, type DecodeOptions, type TokenizerOptions } from './tokenizer.js';
import { formatVideoLlavaPrompt } from './video-llava-prompt.js';

/** Turns images into `pixel_values_images` (what `VideoLlavaImageProcessor` of `@video-llava/image-processor` does). */
export interface ImagePreprocessor {
  preprocess(images: RawImage | readonly RawImage[]): { pixelValues: Tensor<'float32'> };
}

/** Turns videos into `pixel_values_videos` (what `VideoLlavaVideoProcessor` of `@video-llava/video-processor` does). */
export interface VideoPreprocessor {
  preprocess(videos: VideoFrames | readonly VideoFrames[]): { pixelValuesVideos: Tensor<'float32'> };
}

/** The input of {@link VideoLlavaProcessor.process} (transformers' `processor(text=..., images=..., videos=...)`). */
export interface VideoLlavaProcessorInput {
  /**
   * One prompt or a batch; each `<image>` / `<video>` marks where the next image / video goes. A {@link PromptText}
   * (from {@link VideoLlavaProcessor.applyChatTemplateAsPrompt}) keeps the user's text as text: a `<video>` the user
   * typed there is not a placeholder.
   */
  text: string | PromptText | ReadonlyArray<string | PromptText>;
  /** Images (`RawImage`s), one per `<image>` over the whole batch, in order. */
  images?: RawImage | readonly RawImage[];
  /**
   * Videos, one per `<video>` over the whole batch, in order: decoded frames (`loadVideo` of
   * `@video-llava/video-processor/node`, a uint8 `[frames, height, width, 3]` tensor, `RawImage`s) or a list of them.
   */
  videos?: VideoFrames | readonly VideoFrames[];
  /** Already processed images, float32 `[images, 3, H, W]` (instead of `images`). */
  pixelValuesImages?: Tensor<'float32'>;
  /** Already processed videos, float32 `[videos, frames, 3, H, W]` (instead of `videos`). */
  pixelValuesVideos?: Tensor<'float32'>;
  /**
   * Pad a batch to its longest prompt (`true` / `'longest'`), to `maxLength` (`'max_length'`), or not at all
   * (`false`: prompts of different lengths are then an error). Padding goes on the tokenizer's `padding_side`
   * with its pad token.
   * @default true (transformers defaults to false and fails on unequal prompts when it makes tensors)
   */
  padding?: PaddingStrategy;
  /** Target length of `padding: 'max_length'`. */
  maxLength?: number;
  /**
   * Add the BOS token.
   * @default true
   */
  addSpecialTokens?: boolean;
}

/** What {@link VideoLlavaProcessor.process} returns (transformers' `BatchFeature`, camelCase). */
export interface VideoLlavaProcessorOutput {
  /** int64 `[batch, length]`, each `<image>` / `<video>` expanded to the ids its features fill. */
  inputIds: Tensor<'int64'>;
  /** int64 `[batch, length]`: 1 for tokens, 0 for padding. */
  attentionMask: Tensor<'int64'>;
  /** float32 `[images, 3, H, W]` when images were given. */
  pixelValuesImages?: Tensor<'float32'>;
  /** float32 `[videos, frames, 3, H, W]` when videos were given. */
  pixelValuesVideos?: Tensor<'float32'>;
}

/** Options of {@link VideoLlavaProcessor.applyChatTemplate}. */
export interface ApplyChatTemplateOptions {
  /**
   * End with the opening of an assistant turn (`ASSISTANT:`), transformers' `add_generation_prompt`.
   * @default true
   */
  addGenerationPrompt?: boolean;
  /** More variables for a Jinja chat template. */
  variables?: Record<string, unknown>;
}

/** What a {@link VideoLlavaProcessor} is made of. */
export interface VideoLlavaProcessorParts {
  /** The checkpoint's tokenizer. */
  tokenizer: Tokenizer;
  /** The checkpoint's configs (`loadPretrainedConfig`): token counts, placeholders, `max_position_embeddings`. */
  config: PretrainedConfig;
  /** A Jinja chat template; null (the default) uses Video-LLaVA's conversation format. */
  chatTemplate?: string | null;
  /** Where the chat template came from, for messages. */
  chatTemplateFile?: string;
  /**
   * Processes `images`.
   * @default a `VideoLlavaImageProcessor` built from `config.processor.imageProcessor` (on first use)
   */
  imageProcessor?: ImagePreprocessor;
  /**
   * Processes `videos`.
   * @default a `VideoLlavaVideoProcessor` built from `config.processor.videoProcessor` (on first use)
   */
  videoProcessor?: VideoPreprocessor;
}

/** Options of {@link VideoLlavaProcessor.fromPretrained}. */
export interface VideoLlavaProcessorOptions extends TokenizerOptions, ReadOptions {
  /**
   * Processes `images`.
   * @default a `VideoLlavaImageProcessor` of the checkpoint's settings
   */
  imageProcessor?: ImagePreprocessor;
  /**
   * Processes `videos`.
   * @default a `VideoLlavaVideoProcessor` of the checkpoint's settings
   */
  videoProcessor?: VideoPreprocessor;
}

/** An object with the `process` method that can also be called directly: `processor({ text, videos })`. */
export interface VideoLlavaProcessor {
  (input: VideoLlavaProcessorInput): VideoLlavaProcessorOutput;
}

function mediaTensor(tensor: Tensor, field: string, rank: number, shape: string): Tensor<'float32'> {
  if (
    !(tensor instanceof Tensor) &&
    !(typeof tensor === 'object' && tensor !== null && 'dims' in tensor && 'data' in tensor)
  ) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} should be a float32 Tensor ${shape}, found ${describeValue(tensor)}.`,
      { field, expected: `float32 ${shape}`, actual: tensor },
    );
  }
  if (tensor.dtype !== 'float32') {
    throw new VideoLlavaError('DTYPE_MISMATCH', `${field} should be float32, found ${tensor.dtype}.`, {
      field: `${field}.dtype`,
      expected: 'float32',
      actual: tensor.dtype,
    });
  }
  // One image [3, H, W] or one video [frames, 3, H, W] gets its batch axis.
  const shaped = tensor.dims.length === rank - 1 ? tensor.reshape([1, ...tensor.dims]) : tensor;
  if (shaped.dims.length !== rank) {
    throw new VideoLlavaError('SHAPE_MISMATCH', `${field} should be ${shape}, found [${tensor.dims.join(', ')}].`, {
      field: `${field}.dims`,
      expected: shape,
      actual: tensor.dims,
    });
  }
  return shaped as Tensor<'float32'>;
}

const INSTANCE = Symbol('VideoLlavaProcessor');

/**
 * transformers' `VideoLlavaProcessor`: formats prompts, tokenizes them, expands every `<image>` and `<video>` to
 * the number of ids the vision features fill (from the config: `tokensPerImage`, and `tokensPerFrame` times each
 * video's actual frame count), pads a batch on the tokenizer's padding side, and runs the image and video
 * processors. Callable like the Python object.
 *
 * @example
 * ```ts
 * // any source of @video-llava/config; for a folder path, loadVideoLlavaProcessor of the ./node entry
 * const processor = await VideoLlavaProcessor.fromPretrained(source);
 * const prompt = await processor.applyChatTemplate([{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Why is this funny?' }] }]);
 * const inputs = processor({ text: prompt, pixelValuesVideos }); // inputIds, attentionMask, pixelValuesVideos
 * ```
 */
export class VideoLlavaProcessor {
  /** The tokenizer. */
  declare readonly tokenizer: Tokenizer;
  /** The checkpoint's configs. */
  declare readonly config: PretrainedConfig;
  /** The Jinja chat template, or null when the checkpoint has none (then {@link formatVideoLlavaPrompt} is used). */
  declare readonly chatTemplate: string | null;
  declare private imageProcessorInstance: ImagePreprocessor | undefined;
  declare private videoProcessorInstance: VideoPreprocessor | undefined;
  /** The id of `<image>` (`image_token_index`). */
  declare readonly imageTokenId: number;
  /** The id of `<video>` (`video_token_index`). */
  declare readonly videoTokenId: number;
  declare private readonly chatTemplateFile: string;
  declare private readonly [INSTANCE]: true;

  /**
   * @throws VideoLlavaError `INVALID_CHECKPOINT` when the tokenizer's `<image>` / `<video>` ids differ from the
   *   model config's `image_token_index` / `video_token_index` (the features would land in the wrong places)
   */
  constructor(parts: VideoLlavaProcessorParts) {
    const { tokenizer, config } = parts;
    const callable = ((input: VideoLlavaProcessorInput) => callable.process(input)) as unknown as VideoLlavaProcessor;
    Object.setPrototypeOf(callable, new.target.prototype);
    // The instance is the function, so that processor({...}) works as in Python; fields are set on it.
    const self = callable as unknown as { -readonly [K in keyof VideoLlavaProcessor]: VideoLlavaProcessor[K] } & Record<
      string,
      unknown
    >;
    self.tokenizer = tokenizer;
    self.config = config;
    self.chatTemplate = parts.chatTemplate ?? null;
    self.chatTemplateFile = parts.chatTemplateFile ?? 'chat template';
    self.imageProcessorInstance = parts.imageProcessor;
    self.videoProcessorInstance = parts.videoProcessor;
    self.imageTokenId = VideoLlavaProcessor.placeholderId(
      tokenizer,
      config.processor.imageToken,
      config.model.imageTokenIndex,
      'image_token_index',
      config.source,
    );
    self.videoTokenId = VideoLlavaProcessor.placeholderId(
      tokenizer,
      config.processor.videoToken,
      config.model.videoTokenIndex,
      'video_token_index',
      config.source,
    );
    (callable as unknown as Record<symbol, unknown>)[INSTANCE] = true;
    return callable;
  }

  /**
   * Loads the tokenizer, the configs and the chat template of a checkpoint (`chat_template.jinja`,
   * `chat_template.json`, `processor_config.json` or `tokenizer_config.json`, in that order).
   *
   * @param source any checkpoint source of `@video-llava/config` (for a folder path use `loadVideoLlavaProcessor`
   *   of `@video-llava/processor/node`)
   */
  static async fromPretrained(
    source: ModelSource,
    options: VideoLlavaProcessorOptions = {},
  ): Promise<VideoLlavaProcessor> {
    const readOptions: ReadOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    const [config, tokenizer, template] = await Promise.all([
      loadPretrainedConfig(source, readOptions),
      Tokenizer.fromPretrained(source, {
        ...readOptions,
        ...(options.legacy === undefined ? {} : { legacy: options.legacy }),
      }),
      VideoLlavaProcessor.readChatTemplate(source, readOptions),
    ]);
    const base = source.description.replace(/\/$/, '');
    const chatTemplate =
      template ??
      (config.processor.chatTemplate ? { text: config.processor.chatTemplate, file: 'processor_config.json' } : null) ??
      (tokenizer.config.chatTemplate ? { text: tokenizer.config.chatTemplate, file: 'tokenizer_config.json' } : null);
    return new VideoLlavaProcessor({
      tokenizer,
      config,
      chatTemplate: chatTemplate?.text ?? null,
      chatTemplateFile: chatTemplate ? `${base}/${chatTemplate.file}` : 'chat template',
      ...(options.imageProcessor ? { imageProcessor: options.imageProcessor } : {}),
      ...(options.videoProcessor ? { videoProcessor: options.videoProcessor } : {}),
    });
  }

  private static async readChatTemplate(
    source: ModelSource,
    options: ReadOptions,
  ): Promise<{ text: string; file: string } | null> {
    if (await source.exists('chat_template.jinja', options))
      return { text: await source.readText('chat_template.jinja', options), file: 'chat_template.jinja' };
    const json = await readJsonFile(source, 'chat_template.json', { ...options, optional: true });
    if (json === undefined) return null;
    const template = json['chat_template'];
    if (typeof template !== 'string') {
      const file = `${source.description.replace(/\/$/, '')}/chat_template.json`;
      throw new VideoLlavaError(
        'INVALID_CONFIG',
        `${file}: field "chat_template" should be a string, found ${describeValue(template)}.`,
        { file, field: 'chat_template', expected: 'a string', actual: template },
      );
    }
    return { text: template, file: 'chat_template.json' };
  }

  private static placeholderId(
    tokenizer: Tokenizer,
    token: string,
    configId: number,
    field: string,
    source: string,
  ): number {
    const id = tokenizer.tokenToId(token);
    if (id !== configId) {
      const file = `${source.replace(/\/$/, '')}/config.json`;
      throw new VideoLlavaError(
        'INVALID_CHECKPOINT',
        `${file}: ${field} is ${configId} but the tokenizer ${id === undefined ? `has no ${token} token` : `gives ${token} the id ${id}`}; the model would place the vision features on the wrong tokens.`,
        { file, field, expected: id ?? `a ${token} token in the tokenizer`, actual: configId },
      );
    }
    return id;
  }

  /**
   * Builds the prompt text from chat messages: the checkpoint's Jinja chat template when it has one, else
   * Video-LLaVA's conversation format (`USER: <video>\n... ASSISTANT:`).
   */
  async applyChatTemplate(messages: readonly ChatMessage[], options: ApplyChatTemplateOptions = {}): Promise<string> {
    const addGenerationPrompt = options.addGenerationPrompt ?? true;
    if (this.chatTemplate === null) {
      return formatVideoLlavaPrompt(messages, {
        addGenerationPrompt,
        imageToken: this.config.processor.imageToken,
        videoToken: this.config.processor.videoToken,
        eosToken: this.tokenizer.config.eosToken ?? '</s>',
      });
    }
    const tokens = this.tokenizer.config;
    return renderChatTemplate(this.chatTemplate, messages, {
      addGenerationPrompt,
      specialTokens: {
        bos_token: tokens.bosToken,
        eos_token: tokens.eosToken,
        unk_token: tokens.unkToken,
        pad_token: tokens.padToken,
        image_token: this.config.processor.imageToken,
        video_token: this.config.processor.videoToken,
      },
      ...(options.variables ? { variables: options.variables } : {}),
      file: this.chatTemplateFile,
    });
  }

  /**
   * {@link applyChatTemplate}, keeping the user's text apart: every added-token string (`<video>`, `<image>`,
   * `</s>`, ...) inside a message's text is marked as literal, so the processor tokenizes it as the characters it
   * is. Only the placeholders the template puts in for `{type: 'video'}` / `{type: 'image'}` parts are
   * placeholders. transformers would match them in the text too (a user asking about the HTML `<video>` tag
   * could never be answered); this is its `split_special_tokens=True`, applied to the user's text only.
   *
   * @returns the prompt (`text` is exactly what {@link applyChatTemplate} returns) with its literal ranges
   */
  async applyChatTemplateAsPrompt(
    messages: readonly ChatMessage[],
    options: ApplyChatTemplateOptions = {},
  ): Promise<PromptText> {
    if (!Array.isArray(messages)) return { text: await this.applyChatTemplate(messages, options), literalRanges: [] };
    const specialStrings = this.tokenizer
      .convertIdsToTokens(this.tokenizer.addedTokenIds)
      .filter((token): token is string => token !== undefined);
    return collectLiteralRanges(await this.applyChatTemplate(markLiteralText(messages, specialStrings), options));
  }

  /**
   * Tokenizes the prompts, expands `<image>` / `<video>`, pads the batch and processes the media.
   *
   * @throws VideoLlavaError `TOKEN_COUNT_MISMATCH` when the placeholders and the media do not match in number,
   *   `SEQUENCE_TOO_LONG` when a prompt is longer than `max_position_embeddings` after expansion,
   *   `SHAPE_MISMATCH` for pixel tensors whose size gives other token counts than the config
   */
  process(input: VideoLlavaProcessorInput): VideoLlavaProcessorOutput {
    if (typeof input !== 'object' || input === null) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `The processor takes an object { text, images, videos, ... }, found ${describeValue(input)}.`,
        { field: 'input', expected: '{ text, ... }', actual: input },
      );
    }
    const texts = typeof input.text === 'string' || isPromptText(input.text) ? [input.text] : input.text;
    if (
      !Array.isArray(texts) ||
      texts.length === 0 ||
      texts.some((text) => typeof text !== 'string' && !isPromptText(text))
    ) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `text should be a string or a non-empty list of strings, found ${describeValue(input.text)}.`,
        { field: 'text', expected: 'string | string[]', actual: input.text },
      );
    }
    const pixelValuesImages = this.pixelValuesImages(input);
    const pixelValuesVideos = this.pixelValuesVideos(input);
    const derived = this.config.derived;
    const frames = pixelValuesVideos ? pixelValuesVideos.dims[1]! : 0;
    const sequences = expandMediaTokens({
      sequences: texts.map(
        (text) => this.tokenizer.encode(text, { addSpecialTokens: input.addSpecialTokens ?? true }).ids,
      ),
      imageTokenId: this.imageTokenId,
      videoTokenId: this.videoTokenId,
      imageToken: this.config.processor.imageToken,
      videoToken: this.config.processor.videoToken,
      imageCount: pixelValuesImages ? pixelValuesImages.dims[0]! : 0,
      tokensPerImage: derived.tokensPerImage,
      videoTokenCounts: Array.from(
        { length: pixelValuesVideos ? pixelValuesVideos.dims[0]! : 0 },
        () => derived.tokensPerFrame * frames,
      ),
    });
    const limit = this.config.model.textConfig.maxPositionEmbeddings;
    sequences.forEach((ids, index) => {
      if (ids.length <= limit) return;
      const media = ids.reduce(
        (count, id) => count + (id === this.imageTokenId || id === this.videoTokenId ? 1 : 0),
        0,
      );
      const file = `${this.config.source.replace(/\/$/, '')}/config.json`;
      throw new VideoLlavaError(
        'SEQUENCE_TOO_LONG',
        `text${texts.length > 1 ? `[${index}]` : ''} is ${ids.length} tokens after expanding the images and videos (${media} of them image/video tokens, ${ids.length - media} text tokens), more than the model's max_position_embeddings ${limit} (${file}). Use fewer frames, images or words.`,
        { file, field: 'text_config.max_position_embeddings', expected: `at most ${limit} tokens`, actual: ids.length },
      );
    });
    const padded = padSequences(sequences, {
      padding: input.padding ?? true,
      ...(input.maxLength === undefined ? {} : { maxLength: input.maxLength }),
      padTokenId: this.tokenizer.padTokenId,
      paddingSide: this.tokenizer.paddingSide,
    });
    return {
      ...padded,
      ...(pixelValuesImages ? { pixelValuesImages } : {}),
      ...(pixelValuesVideos ? { pixelValuesVideos } : {}),
    };
  }

  /** The tokenizer's {@link Tokenizer.decode}. */
  decode(ids: ArrayLike<number | bigint>, options: DecodeOptions = {}): string {
    return this.tokenizer.decode(ids, options);
  }

  /** {@link decode} for each row of a `[batch, length]` tensor or a list of sequences. */
  batchDecode(
    sequences: Tensor<'int64'> | ReadonlyArray<ArrayLike<number | bigint>>,
    options: DecodeOptions = {},
  ): string[] {
    if (sequences instanceof Tensor) {
      const [rows = 0] = sequences.dims;
      return Array.from({ length: rows }, (_, row) => this.tokenizer.decode(sequences.at(row).data, options));
    }
    return this.tokenizer.batchDecode(sequences, options);
  }

  /** The image processor (built from the config on first use unless one was given). */
  get imageProcessor(): ImagePreprocessor {
    this.imageProcessorInstance ??= new VideoLlavaImageProcessor(this.config.processor.imageProcessor);
    return this.imageProcessorInstance;
  }

  /** The video processor (built from the config on first use unless one was given). */
  get videoProcessor(): VideoPreprocessor {
    this.videoProcessorInstance ??= new VideoLlavaVideoProcessor(this.config.processor.videoProcessor);
    return this.videoProcessorInstance;
  }

  /** Whether `value` is a processor made by any copy of this package. */
  static isInstance(value: unknown): value is VideoLlavaProcessor {
    return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[INSTANCE] === true;
  }

  private pixelValuesImages(input: VideoLlavaProcessorInput): Tensor<'float32'> | undefined {
    if (input.images !== undefined && input.pixelValuesImages !== undefined) {
      throw new VideoLlavaError('INVALID_ARGUMENT', 'Give images or pixelValuesImages, not both.', {
        field: 'pixelValuesImages',
        expected: 'only one of images, pixelValuesImages',
        actual: 'both',
      });
    }
    const tensor =
      input.pixelValuesImages !== undefined
        ? mediaTensor(input.pixelValuesImages, 'pixelValuesImages', 4, '[images, 3, height, width]')
        : input.images !== undefined && !(Array.isArray(input.images) && input.images.length === 0)
          ? this.imageProcessor.preprocess(input.images).pixelValues
          : undefined;
    if (tensor)
      this.checkTokensOfSize(
        tensor.dims[2]!,
        tensor.dims[3]!,
        this.config.derived.tokensPerImage,
        'pixelValuesImages',
        true,
      );
    return tensor;
  }

  private pixelValuesVideos(input: VideoLlavaProcessorInput): Tensor<'float32'> | undefined {
    if (input.videos !== undefined && input.pixelValuesVideos !== undefined) {
      throw new VideoLlavaError('INVALID_ARGUMENT', 'Give videos or pixelValuesVideos, not both.', {
        field: 'pixelValuesVideos',
        expected: 'only one of videos, pixelValuesVideos',
        actual: 'both',
      });
    }
    let tensor: Tensor<'float32'> | undefined;
    if (input.pixelValuesVideos !== undefined) {
      tensor = mediaTensor(input.pixelValuesVideos, 'pixelValuesVideos', 5, '[videos, frames, 3, height, width]');
    } else if (input.videos !== undefined && !(Array.isArray(input.videos) && input.videos.length === 0)) {
      tensor = mediaTensor(
        this.videoProcessor.preprocess(input.videos).pixelValuesVideos,
        'pixelValuesVideos',
        5,
        '[videos, frames, 3, height, width]',
      );
    }
    if (tensor)
      this.checkTokensOfSize(
        tensor.dims[3]!,
        tensor.dims[4]!,
        this.config.derived.tokensPerFrame,
        'pixelValuesVideos',
        false,
      );
    return tensor;
  }

  private checkTokensOfSize(height: number, width: number, expected: number, field: string, isImage: boolean): void {
    // The count the reference derives from the pixel tensor must be the count the config implies.
    const processor = this.config.processor;
    const perFrame =
      Math.floor(height / processor.patchSize) * Math.floor(width / processor.patchSize) +
      processor.numAdditionalImageTokens;
    const actual = isImage && processor.visionFeatureSelectStrategy === 'default' ? perFrame - 1 : perFrame;
    if (actual === expected) return;
    const crop = (isImage ? processor.imageProcessor : processor.videoProcessor).cropSize;
    throw new VideoLlavaError(
      'SHAPE_MISMATCH',
      `${field} is ${height}x${width}, which gives ${actual} tokens per ${isImage ? 'image' : 'frame'}, but the config implies ${expected} (crop ${crop.height}x${crop.width}, patch ${processor.patchSize}).`,
      { field, expected: `${expected} tokens per ${isImage ? 'image' : 'frame'}`, actual },
    );
  }
}
