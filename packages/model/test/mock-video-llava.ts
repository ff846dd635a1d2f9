import { type ModelSource, type PretrainedConfig, loadPretrainedConfig } from '@video-llava/config';
import { Tensor, VideoLlavaError } from '@video-llava/core';
import type { MockModel } from '@video-llava/runtime/testing';

// A miniature Video-LLaVA for the mock backend: 28 px images with 14 px patches (4 tokens per image, 5 per frame,
// 8 frames: 40 per video), text width 8 (4 query heads on 2 key/value heads of 4: grouped-query attention with a
// head_dim that is not width / heads), one layer, 40 token ids. The sessions compute
// simple deterministic functions so that every output can be predicted from the inputs, and so that a wrong
// position id, a lost cache position or a feature in the wrong place changes the logits.
export const VOCAB = 40;
export const IMAGE_ID = 37;
export const VIDEO_ID = 38;
export const PAD_ID = 39;
export const EOS_ID = 2;
export const HIDDEN = 8;
export const KV_HEADS = 2;
export const HEAD_DIM = 4;
export const TOKENS_PER_IMAGE = 4;
export const TOKENS_PER_FRAME = 5;
export const FRAMES = 8;
export const TOKENS_PER_VIDEO = TOKENS_PER_FRAME * FRAMES;

const files: Record<string, string> = {
  'config.json': JSON.stringify({
    model_type: 'video_llava',
    image_token_index: IMAGE_ID,
    video_token_index: VIDEO_ID,
    image_seq_length: TOKENS_PER_IMAGE,
    video_seq_length: TOKENS_PER_VIDEO,
    vision_feature_layer: -2,
    vision_feature_select_strategy: 'default',
    projector_hidden_act: 'gelu',
    text_config: {
      model_type: 'llama',
      vocab_size: VOCAB,
      hidden_size: HIDDEN,
      intermediate_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: KV_HEADS,
      head_dim: HEAD_DIM,
      max_position_embeddings: 120,
      rms_norm_eps: 1e-5,
      bos_token_id: 1,
      eos_token_id: EOS_ID,
      pad_token_id: PAD_ID,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      image_size: 28,
      patch_size: 14,
      projection_dim: 8,
    },
  }),
  'generation_config.json': JSON.stringify({ bos_token_id: 1, eos_token_id: EOS_ID, pad_token_id: PAD_ID }),
  'processor_config.json': JSON.stringify({
    image_processor: {
      crop_size: { height: 28, width: 28 },
      size: { shortest_edge: 28 },
      do_center_crop: true,
      do_resize: true,
    },
    video_processor: {
      crop_size: { height: 28, width: 28 },
      size: { shortest_edge: 28 },
      do_center_crop: true,
      do_resize: true,
      num_frames: FRAMES,
    },
    patch_size: 14,
    num_additional_image_tokens: 1,
    vision_feature_select_strategy: 'default',
  }),
};

export const PARTS = [
  'onnx/embed_tokens.onnx',
  'onnx/image_encoder.onnx',
  'onnx/video_encoder.onnx',
  'onnx/decoder_model_merged.onnx',
];

/** An in-memory model folder: the JSON files above, and ONNX paths the mock backend knows. */
export class MemorySource implements ModelSource {
  readonly description = 'memory://mini-video-llava';
  readonly #files: Record<string, string>;
  /** @param overrides JSON files replacing the miniature's (a config variant) */
  constructor(
    private readonly onnxFiles: readonly string[] = PARTS,
    overrides: Record<string, unknown> = {},
  ) {
    this.#files = {
      ...files,
      ...Object.fromEntries(Object.entries(overrides).map(([name, json]) => [name, JSON.stringify(json)])),
    };
  }
  async exists(path: string): Promise<boolean> {
    return path in this.#files || this.onnxFiles.includes(path);
  }
  async readBytes(path: string): Promise<Uint8Array> {
    return new TextEncoder().encode(await this.readText(path));
  }
  async readText(path: string): Promise<string> {
    const text = this.#files[path];
    if (text === undefined)
      throw new VideoLlavaError('FILE_NOT_FOUND', `${this.description}/${path} does not exist.`, {
        file: `${this.description}/${path}`,
      });
    return text;
  }
  async localPath(path: string): Promise<string | undefined> {
    return this.onnxFiles.includes(path) ? path : undefined;
  }
}

/** The miniature's config.json, to edit into variants. */
export function miniConfigJson(): Record<string, any> {
  return JSON.parse(files['config.json']!);
}

/** The miniature's processor_config.json, to edit into variants. */
export function miniProcessorJson(): Record<string, any> {
  return JSON.parse(files['processor_config.json']!);
}

export function miniConfig(source = new MemorySource()): Promise<PretrainedConfig> {
  return loadPretrainedConfig(source);
}

/** The embedding of a token id (what embed_tokens returns). */
export function embedding(id: number, dim: number): number {
  return Math.fround(Math.sin((id + 1) * (dim + 1) * 0.37));
}

/** The feature a pixel tensor's item gets at one of its token rows. */
function feature(mean: number, token: number, dim: number, offset: number): number {
  return Math.fround(offset + mean + token * 0.1 + dim * 0.01);
}

function itemMeans(pixels: Tensor, items: number): number[] {
  const size = pixels.size / items;
  const data = pixels.data as Float32Array;
  return Array.from({ length: items }, (_, item) => {
    let sum = 0;
    for (let index = 0; index < size; index++) sum += data[item * size + index]!;
    return sum / size;
  });
}

/** Logits of a context (the masked sum of its keys), deterministic in the context. */
function logitsOf(context: Float64Array, out: Float32Array, offset: number): void {
  for (let token = 0; token < VOCAB; token++) {
    let value = 0;
    for (let dim = 0; dim < HIDDEN; dim++) value += context[dim]! * Math.cos((token + 1) * (dim + 2) * 0.91);
    out[offset + token] = Math.fround(value);
  }
}

/**
 * The four scripted sessions, by the path the model opens.
 * @param options.numLogitsToKeep give the decoder the `num_logits_to_keep` input (an int64 scalar, or `[1]` with
 *   `'vector'`) that keeps the logits of the last N positions (0: all), as the converter's decoder has it
 */
export function miniModels(options: { numLogitsToKeep?: boolean | 'vector' } = {}): Record<string, MockModel> {
  const keepInput = options.numLogitsToKeep
    ? [{ name: 'num_logits_to_keep', dtype: 'int64' as const, shape: options.numLogitsToKeep === 'vector' ? [1] : [] }]
    : [];
  return {
    'onnx/embed_tokens.onnx': {
      inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] }],
      outputs: [{ name: 'inputs_embeds', dtype: 'float32', shape: ['batch', 'sequence', HIDDEN] }],
      run: (feeds) => {
        const ids = feeds.input_ids!;
        const data = new Float32Array(ids.size * HIDDEN);
        (ids.data as BigInt64Array).forEach((id, position) => {
          for (let dim = 0; dim < HIDDEN; dim++) data[position * HIDDEN + dim] = embedding(Number(id), dim);
        });
        return { inputs_embeds: new Tensor('float32', data, [...ids.dims, HIDDEN]) };
      },
    },
    'onnx/image_encoder.onnx': {
      inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['images', 3, 28, 28] }],
      outputs: [{ name: 'image_features', dtype: 'float32', shape: ['images', TOKENS_PER_IMAGE, HIDDEN] }],
      run: (feeds) => {
        const pixels = feeds.pixel_values!;
        const images = pixels.dims[0]!;
        const data = new Float32Array(images * TOKENS_PER_IMAGE * HIDDEN);
        itemMeans(pixels, images).forEach((mean, image) => {
          for (let token = 0; token < TOKENS_PER_IMAGE; token++)
            for (let dim = 0; dim < HIDDEN; dim++)
              data[(image * TOKENS_PER_IMAGE + token) * HIDDEN + dim] = feature(mean, token, dim, 10);
        });
        return { image_features: new Tensor('float32', data, [images, TOKENS_PER_IMAGE, HIDDEN]) };
      },
    },
    'onnx/video_encoder.onnx': {
      inputs: [{ name: 'pixel_values_videos', dtype: 'float32', shape: ['videos', 'frames', 3, 28, 28] }],
      outputs: [{ name: 'video_features', dtype: 'float32', shape: ['videos', 'video_tokens', HIDDEN] }],
      run: (feeds) => {
        const pixels = feeds.pixel_values_videos!;
        const videos = pixels.dims[0]!;
        const tokens = pixels.dims[1]! * TOKENS_PER_FRAME;
        const data = new Float32Array(videos * tokens * HIDDEN);
        itemMeans(pixels, videos).forEach((mean, video) => {
          for (let token = 0; token < tokens; token++)
            for (let dim = 0; dim < HIDDEN; dim++)
              data[(video * tokens + token) * HIDDEN + dim] = feature(mean, token, dim, 20);
        });
        return { video_features: new Tensor('float32', data, [videos, tokens, HIDDEN]) };
      },
    },
    'onnx/decoder_model_merged.onnx': {
      inputs: [
        { name: 'inputs_embeds', dtype: 'float32', shape: ['batch', 'sequence', HIDDEN] },
        { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'total'] },
        { name: 'position_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
        { name: 'past_key_values.0.key', dtype: 'float32', shape: ['batch', KV_HEADS, 'past', HEAD_DIM] },
        { name: 'past_key_values.0.value', dtype: 'float32', shape: ['batch', KV_HEADS, 'past', HEAD_DIM] },
        ...keepInput,
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: ['batch', 'sequence', VOCAB] },
        { name: 'present.0.key', dtype: 'float32', shape: ['batch', KV_HEADS, 'total', HEAD_DIM] },
        { name: 'present.0.value', dtype: 'float32', shape: ['batch', KV_HEADS, 'total', HEAD_DIM] },
      ],
      run: (feeds) => {
        const embeds = feeds.inputs_embeds!;
        const [rows, length] = embeds.dims as [number, number];
        const past = feeds['past_key_values.0.key']!;
        const pastLength = past.dims[2]!;
        const total = pastLength + length;
        const mask = feeds.attention_mask!.data as BigInt64Array;
        const positions = feeds.position_ids!.data as BigInt64Array;
        if (feeds.attention_mask!.dims[1] !== total)
          throw new Error(
            `attention mask covers ${feeds.attention_mask!.dims[1]} positions, the cache and the new tokens ${total}`,
          );
        // The key of a position: its embedding, shifted by its position id (so position ids matter).
        const key = new Float32Array(rows * KV_HEADS * total * HEAD_DIM);
        const pastData = past.data as Float32Array;
        const embedData = embeds.data as Float32Array;
        for (let row = 0; row < rows; row++) {
          for (let head = 0; head < KV_HEADS; head++) {
            for (let position = 0; position < total; position++) {
              for (let dim = 0; dim < HEAD_DIM; dim++) {
                const at = ((row * KV_HEADS + head) * total + position) * HEAD_DIM + dim;
                key[at] =
                  position < pastLength
                    ? pastData[((row * KV_HEADS + head) * pastLength + position) * HEAD_DIM + dim]!
                    : Math.fround(
                        embedData[(row * length + position - pastLength) * HIDDEN + head * HEAD_DIM + dim]! +
                          Number(positions[row * length + position - pastLength]!) * 0.001,
                      );
              }
            }
          }
        }
        const logits = new Float32Array(rows * length * VOCAB);
        const context = new Float64Array(HIDDEN);
        for (let row = 0; row < rows; row++) {
          context.fill(0);
          for (let position = 0; position < total; position++) {
            if (mask[row * total + position] === 1n) {
              for (let head = 0; head < KV_HEADS; head++)
                for (let dim = 0; dim < HEAD_DIM; dim++)
                  context[head * HEAD_DIM + dim]! +=
                    key[((row * KV_HEADS + head) * total + position) * HEAD_DIM + dim]!;
            }
            if (position >= pastLength) logitsOf(context, logits, (row * length + position - pastLength) * VOCAB);
          }
        }
        const present = new Tensor('float32', key, [rows, KV_HEADS, total, HEAD_DIM]);
        const keep = feeds.num_logits_to_keep === undefined ? 0 : Number(feeds.num_logits_to_keep.data[0]!);
        const kept = keep === 0 ? length : Math.min(keep, length);
        const keptLogits = new Float32Array(rows * kept * VOCAB);
        for (let row = 0; row < rows; row++)
          keptLogits.set(
            logits.subarray((row * length + length - kept) * VOCAB, (row + 1) * length * VOCAB),
            row * kept * VOCAB,
          );
        return {
          logits: new Tensor('float32', keptLogits, [rows, kept, VOCAB]),
          'present.0.key': present,
          'present.0.value': present,
        };
      },
    },
  };
}
