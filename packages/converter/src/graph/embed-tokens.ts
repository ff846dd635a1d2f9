import type { VideoLlavaConfig } from '@video-llava/config';
import type { WeightPlanner } from '../weight-plan.js';
import { castTo } from './layers.js';

/** Builds `embed_tokens`: `input_ids [B,S]` i64 -> `inputs_embeds [B,S,D]` f32 (rows of the embedding table). */
export function buildEmbedTokens(planner: WeightPlanner, config: VideoLlavaConfig): void {
  const graph = planner.graph;
  const ids = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const rows = planner.embedding(ids, 'model.language_model.embed_tokens.weight');
  graph.output(
    castTo(graph, rows, planner.floatType, 'float32'),
    'float32',
    ['batch_size', 'sequence_length', config.textConfig.hiddenSize],
    'inputs_embeds',
  );
}
