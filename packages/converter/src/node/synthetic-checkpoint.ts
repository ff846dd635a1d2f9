import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelConfig } from '@video-llava/config';
import { VideoLlavaError } from '@video-llava/core';
import { type CheckpointLayout, checkpointName } from '../checkpoint-layout.js';
import { expectedTensors } from '../expected-tensors.js';
import { encodeFloat16 } from '../float-conversion.js';
import { MODEL_FOLDER_FILES } from './model-folder-files.js';
import { writeFully } from './write-fully.js';

/** Options of {@link writeSyntheticCheckpoint}. */
export interface SyntheticCheckpointOptions {
  /**
   * `config.json` fields over the defaults (a tiny Video-LLaVA: vision width 32 with 3 layers, text width 64
   * with 2 layers, vocabulary 32064). `text_config` and `vision_config` are merged field by field.
   * @default {}
   */
  config?: Record<string, unknown>;
  /** Storage dtype of the weights. @default "float16" */
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** Tensor naming. @default "hub" (the layout of LanguageBind/Video-LLaVA-7B-hf) */
  layout?: CheckpointLayout;
  /** Number of safetensors shards; more than 1 writes `model-0000i-of-0000n.safetensors` and the index. @default 1 */
  shards?: number;
  /** Seed of the weights: the same seed gives the same values whatever the dtype, layout or sharding. @default 0 */
  seed?: number;
  /** A folder to copy processor and tokenizer files (and generation_config.json) from. */
  copyFilesFrom?: string;
}

/** What {@link writeSyntheticCheckpoint} wrote. */
export interface SyntheticCheckpoint {
  /** The checkpoint folder. */
  directory: string;
  /** The weight files written (file names). */
  weightFiles: string[];
  /** Bytes of weights in all. */
  weightBytes: number;
  /** Number of tensors. */
  tensorCount: number;
}

/** The tiny default model (same widths as the repository's test fixture). */
export const SYNTHETIC_DEFAULT_CONFIG: Readonly<Record<string, unknown>> = {
  architectures: ['VideoLlavaForConditionalGeneration'],
  model_type: 'video_llava',
  image_token_index: 32000,
  video_token_index: 32001,
  image_seq_length: 256,
  video_seq_length: 2056,
  projector_hidden_act: 'gelu',
  multimodal_projector_bias: true,
  vision_feature_layer: -2,
  vision_feature_select_strategy: 'default',
  tie_word_embeddings: false,
  text_config: {
    model_type: 'llama',
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    head_dim: 16,
    hidden_act: 'silu',
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    vocab_size: 32064,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 32002,
    tie_word_embeddings: false,
  },
  vision_config: {
    model_type: 'clip_vision_model',
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_channels: 3,
    image_size: 224,
    patch_size: 14,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    projection_dim: 32,
  },
};

/**
 * `config.json` overrides for the real Video-LLaVA-7B layer dimensions (text 4096 wide, 32 heads,
 * intermediate 11008, vocabulary 32064; CLIP ViT-L/14: 1024 wide, 16 heads, intermediate 4096) with fewer
 * layers, for benchmarks and memory tests at real sizes.
 */
export function videoLlava7bDimensions(layers: { text: number; vision: number }): Record<string, unknown> {
  return {
    text_config: {
      hidden_size: 4096,
      intermediate_size: 11008,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      head_dim: 128,
      num_hidden_layers: layers.text,
      vocab_size: 32064,
    },
    vision_config: {
      hidden_size: 1024,
      intermediate_size: 4096,
      num_attention_heads: 16,
      num_hidden_layers: layers.vision,
      projection_dim: 768,
    },
  };
}

function mergeConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...SYNTHETIC_DEFAULT_CONFIG, ...overrides };
  for (const key of ['text_config', 'vision_config']) {
    merged[key] = { ...(SYNTHETIC_DEFAULT_CONFIG[key] as object), ...((overrides[key] as object | undefined) ?? {}) };
  }
  return merged;
}

function hashString(text: string, seed: number): number {
  let hash = (2166136261 ^ seed) >>> 0;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 16777619) >>> 0;
  return hash || 1;
}

/**
 * Values exactly representable in float16 and bfloat16 (so every storage dtype holds the same function):
 * norm weights `1 + k/64` (|k| <= 4), biases `k/4096` (|k| <= 63), other weights `k/4096` (|k| <= 127,
 * standard deviation about 0.018).
 */
function fillValues(out: Float32Array, canonical: string, state: { value: number }): void {
  const isNorm = /norm|layrnorm/.test(canonical) && canonical.endsWith('.weight');
  const isBias = canonical.endsWith('.bias');
  let x = state.value;
  for (let index = 0; index < out.length; index++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (isNorm) out[index] = 1 + ((x % 9) - 4) / 64;
    else if (isBias) out[index] = ((x % 127) - 63) / 4096;
    else out[index] = ((x % 255) - 127) / 4096;
  }
  state.value = x;
}

const DTYPE_CODES = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;

function encode(values: Float32Array, dtype: 'float32' | 'float16' | 'bfloat16'): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (dtype === 'float16') {
    const half = encodeFloat16(values);
    return new Uint8Array(half.buffer);
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let index = 0; index < out.length; index++) out[index] = bits[index]! >>> 16;
  return new Uint8Array(out.buffer);
}

/**
 * Writes a synthetic Video-LLaVA checkpoint with random weights at any dimensions, with the same tensor names
 * and layout as the hub's: `config.json`, `generation_config.json`, and `model.safetensors` (or shards plus
 * `model.safetensors.index.json`), tensor by tensor in bounded memory. For tests and benchmarks at real sizes
 * without downloading.
 */
export async function writeSyntheticCheckpoint(
  directory: string,
  options: SyntheticCheckpointOptions = {},
): Promise<SyntheticCheckpoint> {
  const raw = mergeConfig(options.config ?? {});
  const dtype = options.dtype ?? 'float16';
  raw['dtype'] = dtype;
  const config = parseModelConfig(raw, join(directory, 'config.json'));
  const layout = options.layout ?? 'hub';
  const shards = options.shards ?? 1;
  if (!Number.isSafeInteger(shards) || shards < 1) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `shards must be a positive integer, found ${shards}.`, {
      field: 'shards',
      expected: 'a positive integer',
      actual: shards,
    });
  }
  const seed = options.seed ?? 0;
  const bytesPerElement = dtype === 'float32' ? 4 : 2;
  const tensors = expectedTensors(config).map((tensor) => ({
    ...tensor,
    name: checkpointName(tensor.canonical, layout),
    bytes: tensor.shape.reduce((a, b) => a * b, 1) * bytesPerElement,
  }));
  const totalBytes = tensors.reduce((sum, tensor) => sum + tensor.bytes, 0);
  if (shards > tensors.length) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `shards is ${shards} but the model has only ${tensors.length} tensors.`,
      { field: 'shards', expected: `at most ${tensors.length}`, actual: shards },
    );
  }
  // Consecutive tensors, a new shard when this one would pass its share of the bytes, every shard non-empty.
  const target = totalBytes / shards;
  const groups: (typeof tensors)[] = [[]];
  let groupBytes = 0;
  for (const [index, tensor] of tensors.entries()) {
    const groupsLeft = shards - groups.length;
    if (
      groups.at(-1)!.length > 0 &&
      groupsLeft > 0 &&
      (groupBytes + tensor.bytes > target || tensors.length - index <= groupsLeft)
    ) {
      groups.push([]);
      groupBytes = 0;
    }
    groups.at(-1)!.push(tensor);
    groupBytes += tensor.bytes;
  }
  await mkdir(directory, { recursive: true });
  const fileNames =
    shards === 1
      ? ['model.safetensors']
      : groups.map(
          (_, index) => `model-${String(index + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`,
        );
  const weightMap: Record<string, string> = {};
  for (const [index, group] of groups.entries()) {
    const fileName = fileNames[index]!;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const tensor of group) {
      header[tensor.name] = {
        dtype: DTYPE_CODES[dtype],
        shape: tensor.shape,
        data_offsets: [offset, offset + tensor.bytes],
      };
      offset += tensor.bytes;
      weightMap[tensor.name] = fileName;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
    const headerBytes = new TextEncoder().encode(json);
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
    const handle = await open(join(directory, fileName), 'w');
    try {
      let position = 0;
      const write = async (bytes: Uint8Array) => {
        await writeFully(handle, bytes, position);
        position += bytes.byteLength;
      };
      await write(prefix);
      await write(headerBytes);
      for (const tensor of group) {
        const state = { value: hashString(tensor.canonical, seed) };
        const count = tensor.bytes / bytesPerElement;
        const step = 4 * 1024 * 1024;
        for (let done = 0; done < count; done += step) {
          const values = new Float32Array(Math.min(step, count - done));
          fillValues(values, tensor.canonical, state);
          await write(encode(values, dtype));
        }
      }
    } finally {
      await handle.close();
    }
  }
  if (shards > 1) {
    await writeFile(
      join(directory, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: weightMap }, null, 2),
    );
  }
  await writeFile(join(directory, 'config.json'), JSON.stringify(raw, null, 2));
  let wroteGeneration = false;
  if (options.copyFilesFrom !== undefined) {
    for (const name of MODEL_FOLDER_FILES) {
      if (name === 'config.json') continue;
      try {
        await copyFile(join(options.copyFilesFrom, name), join(directory, name));
        if (name === 'generation_config.json') wroteGeneration = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
  if (!wroteGeneration) {
    const text = raw['text_config'] as Record<string, unknown>;
    await writeFile(
      join(directory, 'generation_config.json'),
      JSON.stringify(
        { bos_token_id: text['bos_token_id'], eos_token_id: text['eos_token_id'], pad_token_id: text['pad_token_id'] },
        null,
        2,
      ),
    );
  }
  return { directory, weightFiles: fileNames, weightBytes: totalBytes, tensorCount: tensors.length };
}
