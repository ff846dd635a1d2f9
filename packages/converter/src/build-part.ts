import type { VideoLlavaConfig } from '@video-llava/config';
import { GraphBuilder } from '@video-llava/onnx';
import { type DecoderGraphOptions, buildDecoder } from './graph/decoder.js';
import { buildEmbedTokens } from './graph/embed-tokens.js';
import { buildVisionEncoder } from './graph/vision-encoder.js';
import type { CheckpointTensor } from './validate-checkpoint.js';
import type { ModelPart, WeightFormat } from './weight-format.js';
import { DEFAULT_BLOCK_SIZE } from './quantize.js';
import { WeightPlanner } from './weight-plan.js';

/** Options of {@link buildModelPart}. */
export interface BuildPartOptions {
  /** MatMulNBits block size for q4/q8 (a power of two, at least 16). @default 128 */
  blockSize?: number;
  /** Add `hidden_states.{i}` outputs to the decoder (see {@link DecoderGraphOptions}). @default false */
  hiddenStateOutputs?: boolean;
  /** Fused ONNX Runtime contrib ops in the decoder (see {@link DecoderGraphOptions}). @default false */
  contribOps?: boolean;
  /** The decoder's `num_logits_to_keep` input (see {@link DecoderGraphOptions}). @default true */
  numLogitsToKeepInput?: boolean;
  /**
   * `MatMulNBits`' `accuracy_level` in the q4/q8 formats: 4 computes the input in int8 (ONNX Runtime's fast path on
   * CPUs with int8 dot products), 0 in float32.
   * @default 4
   */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Also build the decoder with the key/value buffer layout (`cacheOutputs: 'new'`, ONNX Runtime's fused norms and
   * rotary embeddings where the format computes in float32), sharing the weights of `decoder_model_merged`: see
   * {@link KV_BUFFER_DECODER_STEM}.
   * @default true
   */
  kvBufferDecoder?: boolean;
  /**
   * Also build the decoder with the int8 key/value cache (`cacheOutputs: 'int8'`: ONNX Runtime's
   * `GroupQueryAttention` over int8 buffers updated in place), sharing the weights of `decoder_model_merged`: see
   * {@link INT8_CACHE_DECODER_STEM}. Only in formats that compute in float32 (not fp16).
   * @default true
   */
  int8CacheDecoder?: boolean;
}

/**
 * The file-name stem of the decoder with the key/value buffer layout (`decoder_kv_buffer_q4.onnx` beside
 * `decoder_model_merged_q4.onnx`, whose weights and external data it shares): it takes the past as buffers with
 * unfilled capacity and returns only the new positions' keys and values (`new_key_values.*`), so that a decoding
 * step neither copies nor returns the whole cache. `@video-llava/model` prefers it on backends that keep the cache
 * on the CPU.
 */
export const KV_BUFFER_DECODER_STEM = 'decoder_kv_buffer';

/**
 * The file-name stem of the decoder with the int8 key/value cache (`decoder_kv_int8_q4.onnx` beside
 * `decoder_model_merged_q4.onnx`, sharing its weights): a quarter of the float32 cache's bytes per step, for
 * runtimes that can bind an output to its input's buffer (`@video-llava/runtime-node`'s in-place runner). Its
 * graph is described by `DecoderGraphOptions.cacheOutputs` `'int8'`.
 */
export const INT8_CACHE_DECODER_STEM = 'decoder_kv_int8';

/** A built graph whose weights are still to be written: run the planner's jobs, then add the initializers. */
export interface BuiltPart {
  /** The part built. */
  part: ModelPart;
  /** Its graph, without initializers yet. */
  graph: GraphBuilder;
  /** The weights the graph uses, as jobs to run. */
  planner: WeightPlanner;
  /** Operator sets the graph uses. */
  opsetImports: Record<string, number>;
  /** More graphs over the same weights, written beside the part's file under their own stem. */
  companions: Array<{ stem: string; graph: GraphBuilder; opsetImports: Record<string, number> }>;
}

/** Builds the graph of one model part of the ONNX contract and plans its weights. */
export function buildModelPart(
  part: ModelPart,
  config: VideoLlavaConfig,
  tensors: ReadonlyMap<string, CheckpointTensor>,
  format: WeightFormat,
  options: BuildPartOptions = {},
): BuiltPart {
  const graph = new GraphBuilder(part);
  const planner = new WeightPlanner(
    graph,
    tensors,
    format,
    options.blockSize ?? DEFAULT_BLOCK_SIZE,
    options.accuracyLevel ?? 4,
  );
  const companions: BuiltPart['companions'] = [];
  switch (part) {
    case 'embed_tokens':
      buildEmbedTokens(planner, config);
      break;
    case 'image_encoder':
      buildVisionEncoder(planner, config, 'image');
      break;
    case 'video_encoder':
      buildVisionEncoder(planner, config, 'video');
      break;
    case 'decoder_model_merged':
      buildDecoder(planner, config, { ...options, cacheOutputs: 'present' });
      if (options.kvBufferDecoder ?? true) {
        const buffered = new GraphBuilder(KV_BUFFER_DECODER_STEM);
        buildDecoder(planner.withGraph(buffered), config, {
          ...options,
          hiddenStateOutputs: false,
          contribOps: true,
          cacheOutputs: 'new',
        });
        companions.push({
          stem: KV_BUFFER_DECODER_STEM,
          graph: buffered,
          opsetImports: { '': 17, 'com.microsoft': 1 },
        });
      }
      if ((options.int8CacheDecoder ?? true) && planner.floatType === 'float32') {
        const int8 = new GraphBuilder(INT8_CACHE_DECODER_STEM);
        buildDecoder(planner.withGraph(int8), config, {
          ...options,
          hiddenStateOutputs: false,
          contribOps: true,
          cacheOutputs: 'int8',
        });
        companions.push({ stem: INT8_CACHE_DECODER_STEM, graph: int8, opsetImports: { '': 17, 'com.microsoft': 1 } });
      }
      break;
  }
  const opsetImports: Record<string, number> = { '': 17 };
  if (planner.quantized || (part === 'decoder_model_merged' && options.contribOps)) opsetImports['com.microsoft'] = 1;
  return { part, graph, planner, opsetImports, companions };
}
