import type { VideoLlavaConfig } from '@video-llava/config';
import { GraphBuilder } from '@video-llava/onnx';
import { type DecoderGraphOptions, buildDecoder } from './graph/decoder.js';
import { buildEmbedTokens } from './graph/embed-tokens.js';
import { buildVisionEncoder } from './graph/vision-encoder.js';
import type { CheckpointTensor } from './validate-checkpoint.js';
import type { ModelPart, WeightFormat } from './weight-format.js';
import { WeightPlanner } from './weight-plan.js';

/** Options of {@link buildModelPart}. */
export interface BuildPartOptions {
  /** MatMulNBits block size for q4/q8 (a power of two, at least 16). @default 32 */
  blockSize?: number;
  /** Add `hidden_states.{i}` outputs to the decoder (see {@link DecoderGraphOptions}). @default false */
  hiddenStateOutputs?: boolean;
  /** Fused ONNX Runtime contrib ops in the decoder (see {@link DecoderGraphOptions}). @default false */
  contribOps?: boolean;
  /** The decoder's `num_logits_to_keep` input (see {@link DecoderGraphOptions}). @default true */
  numLogitsToKeepInput?: boolean;
}

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
}

/** Builds the graph of one model part of the ONNX contract and plans its weights. */
export function buildModelPart(part: ModelPart, config: VideoLlavaConfig, tensors: ReadonlyMap<string, CheckpointTensor>, format: WeightFormat, options: BuildPartOptions = {}): BuiltPart {
  const graph = new GraphBuilder(part);
  const planner = new WeightPlanner(graph, tensors, format, options.blockSize ?? 32);
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
      buildDecoder(planner, config, options);
      break;
  }
  const opsetImports: Record<string, number> = { '': 17 };
  if (planner.quantized || (part === 'decoder_model_merged' && options.contribOps)) opsetImports['com.microsoft'] = 1;
  return { part, graph, planner, opsetImports };
}
