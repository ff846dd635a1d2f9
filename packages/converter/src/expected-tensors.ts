import type { VideoLlavaConfig } from '@video-llava/config';

/** A tensor the model needs, with the shape the config implies and where each dimension comes from. */
export interface ExpectedTensor {
  /** Canonical (transformers v5 module) name. */
  canonical: string;
  /** The shape the config implies. */
  shape: number[];
  /** The config fields behind each dimension, for error messages. */
  shapeFrom: string[];
}

/** The hidden states `vision_feature_layer` selects, as indices from 0 (negative counts from the end, like transformers). */
export function visionFeatureLayerIndices(config: VideoLlavaConfig): number[] {
  const total = config.visionConfig.numHiddenLayers;
  const layers = Array.isArray(config.visionFeatureLayer) ? config.visionFeatureLayer : [config.visionFeatureLayer];
  return layers.map((layer) => (layer < 0 ? total + 1 + layer : layer));
}

/** How many vision layers hidden state `layer` needs (negative counts from the end, like transformers). */
export function visionLayersNeeded(config: VideoLlavaConfig): number {
  return Math.max(...visionFeatureLayerIndices(config));
}

/**
 * Every tensor `VideoLlavaForConditionalGeneration` has for this config, with its shape: both CLIP towers
 * (all layers, post-layernorm included, as transformers loads them), the projector, the LLaMA model and
 * `lm_head` (unless the embeddings are tied).
 */
export function expectedTensors(config: VideoLlavaConfig): ExpectedTensor[] {
  const vision = config.visionConfig;
  const text = config.textConfig;
  const out: ExpectedTensor[] = [];
  const add = (canonical: string, shape: number[], shapeFrom: string[]) => out.push({ canonical, shape, shapeFrom });
  const D = vision.hiddenSize;
  const vD = 'vision_config.hidden_size';
  // CLIPVisionEmbeddings: num_patches = (image_size // patch_size) ** 2 (a stride-patch conv drops the remainder).
  const patches = Math.floor(vision.imageSize / vision.patchSize) ** 2;
  for (const tower of ['model.image_tower.', 'model.video_tower.']) {
    add(`${tower}embeddings.class_embedding`, [D], [vD]);
    add(
      `${tower}embeddings.patch_embedding.weight`,
      [D, vision.numChannels, vision.patchSize, vision.patchSize],
      [vD, 'vision_config.num_channels', 'vision_config.patch_size', 'vision_config.patch_size'],
    );
    add(
      `${tower}embeddings.position_embedding.weight`,
      [patches + 1, D],
      ['(vision_config.image_size // patch_size)^2 + 1', vD],
    );
    add(`${tower}pre_layrnorm.weight`, [D], [vD]);
    add(`${tower}pre_layrnorm.bias`, [D], [vD]);
    for (let layer = 0; layer < vision.numHiddenLayers; layer++) {
      const prefix = `${tower}encoder.layers.${layer}.`;
      for (const projection of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
        add(`${prefix}self_attn.${projection}.weight`, [D, D], [vD, vD]);
        add(`${prefix}self_attn.${projection}.bias`, [D], [vD]);
      }
      for (const norm of ['layer_norm1', 'layer_norm2']) {
        add(`${prefix}${norm}.weight`, [D], [vD]);
        add(`${prefix}${norm}.bias`, [D], [vD]);
      }
      add(`${prefix}mlp.fc1.weight`, [vision.intermediateSize, D], ['vision_config.intermediate_size', vD]);
      add(`${prefix}mlp.fc1.bias`, [vision.intermediateSize], ['vision_config.intermediate_size']);
      add(`${prefix}mlp.fc2.weight`, [D, vision.intermediateSize], [vD, 'vision_config.intermediate_size']);
      add(`${prefix}mlp.fc2.bias`, [D], [vD]);
    }
    add(`${tower}post_layernorm.weight`, [D], [vD]);
    add(`${tower}post_layernorm.bias`, [D], [vD]);
  }
  const H = text.hiddenSize;
  const tH = 'text_config.hidden_size';
  const featureLayers = Array.isArray(config.visionFeatureLayer) ? config.visionFeatureLayer.length : 1;
  const projectorIn = D * featureLayers;
  const projectorInFrom = featureLayers === 1 ? vD : `vision_config.hidden_size x len(vision_feature_layer)`;
  add('model.multi_modal_projector.linear_1.weight', [H, projectorIn], [tH, projectorInFrom]);
  if (config.multimodalProjectorBias) add('model.multi_modal_projector.linear_1.bias', [H], [tH]);
  add('model.multi_modal_projector.linear_2.weight', [H, H], [tH, tH]);
  if (config.multimodalProjectorBias) add('model.multi_modal_projector.linear_2.bias', [H], [tH]);
  add('model.language_model.embed_tokens.weight', [text.vocabSize, H], ['text_config.vocab_size', tH]);
  const qOut = text.numAttentionHeads * text.headDim;
  const kvOut = text.numKeyValueHeads * text.headDim;
  const qFrom = 'text_config.num_attention_heads x head_dim';
  const kvFrom = 'text_config.num_key_value_heads x head_dim';
  for (let layer = 0; layer < text.numHiddenLayers; layer++) {
    const prefix = `model.language_model.layers.${layer}.`;
    const projections: Array<[string, number, number, string, string]> = [
      ['q_proj', qOut, H, qFrom, tH],
      ['k_proj', kvOut, H, kvFrom, tH],
      ['v_proj', kvOut, H, kvFrom, tH],
      ['o_proj', H, qOut, tH, qFrom],
    ];
    for (const [name, rows, columns, rowsFrom, columnsFrom] of projections) {
      add(`${prefix}self_attn.${name}.weight`, [rows, columns], [rowsFrom, columnsFrom]);
      if (text.attentionBias) add(`${prefix}self_attn.${name}.bias`, [rows], [rowsFrom]);
    }
    const I = text.intermediateSize;
    const iFrom = 'text_config.intermediate_size';
    for (const [name, rows, columns, rowsFrom, columnsFrom] of [
      ['gate_proj', I, H, iFrom, tH],
      ['up_proj', I, H, iFrom, tH],
      ['down_proj', H, I, tH, iFrom],
    ] as const) {
      add(`${prefix}mlp.${name}.weight`, [rows, columns], [rowsFrom, columnsFrom]);
      if (text.mlpBias) add(`${prefix}mlp.${name}.bias`, [rows], [rowsFrom]);
    }
    add(`${prefix}input_layernorm.weight`, [H], [tH]);
    add(`${prefix}post_attention_layernorm.weight`, [H], [tH]);
  }
  add('model.language_model.norm.weight', [H], [tH]);
  if (!text.tieWordEmbeddings) add('lm_head.weight', [text.vocabSize, H], ['text_config.vocab_size', tH]);
  return out;
}
