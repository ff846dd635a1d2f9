import type { VideoLlavaConfig } from '@video-llava/config';
import { visionFeatureLayerIndices, visionLayersNeeded } from '../expected-tensors.js';
import type { WeightPlanner } from '../weight-plan.js';
import { activation, castTo, layerNorm, scalar, softmax } from './layers.js';

/** Which tower: images (`image_encoder.onnx`) or videos (`video_encoder.onnx`). */
export type VisionInput = 'image' | 'video';

/**
 * Builds `image_encoder` or `video_encoder`: the CLIP vision tower up to `vision_feature_layer` (a list
 * concatenates along the features), the CLS token dropped for images under strategy `default` and kept for
 * video frames, then the multi-modal projector (linear, `projector_hidden_act`, linear).
 *
 * - image: `pixel_values [num_images, C, S, S]` -> `image_features [num_images, T_img, D]`
 * - video: `pixel_values_videos [batch_size, num_frames, C, S, S]` -> `video_features [batch_size, F * T_frame, D]`
 */
export function buildVisionEncoder(planner: WeightPlanner, config: VideoLlavaConfig, input: VisionInput): void {
  const graph = planner.graph;
  const type = planner.floatType;
  const vision = config.visionConfig;
  const tower = input === 'image' ? 'model.image_tower.' : 'model.video_tower.';
  const {
    numChannels: channels,
    imageSize: size,
    patchSize: patch,
    hiddenSize: width,
    numAttentionHeads: heads,
  } = vision;
  const headDim = width / heads;

  let pixels: string;
  if (input === 'image') {
    pixels = graph.input('pixel_values', 'float32', ['num_images', channels, size, size]);
  } else {
    const videos = graph.input('pixel_values_videos', 'float32', ['batch_size', 'num_frames', channels, size, size]);
    pixels = graph.op('Reshape', [videos, graph.constant('int64', [-1, channels, size, size])]);
  }
  pixels = castTo(graph, pixels, 'float32', type);

  const patchWeight = planner.tensor(`${tower}embeddings.patch_embedding.weight`);
  const patches = graph.op('Conv', [pixels, patchWeight], { kernel_shape: [patch, patch], strides: [patch, patch] });
  const sequence = graph.op('Transpose', [graph.op('Reshape', [patches, graph.constant('int64', [0, width, -1])])], {
    perm: [0, 2, 1],
  });
  const classEmbedding = planner.tensor(`${tower}embeddings.class_embedding`, [1, 1, width]);
  const classShape = graph.op(
    'Concat',
    [graph.op('Shape', [sequence], { end: 1 }), graph.constant('int64', [1, width])],
    { axis: 0 },
  );
  const classTokens = graph.op('Expand', [classEmbedding, classShape]);
  const embeddings = graph.op('Add', [
    graph.op('Concat', [classTokens, sequence], { axis: 1 }),
    planner.tensor(`${tower}embeddings.position_embedding.weight`),
  ]);
  let hidden = layerNorm(
    graph,
    embeddings,
    planner.tensor(`${tower}pre_layrnorm.weight`),
    planner.tensor(`${tower}pre_layrnorm.bias`),
    vision.layerNormEps,
  );

  const indices = visionFeatureLayerIndices(config);
  const hiddenStates = [hidden];
  const headShape = graph.constant('int64', [0, 0, heads, headDim]);
  const mergeShape = graph.constant('int64', [0, 0, width]);
  const scaleTyped = scalar(graph, type, headDim ** -0.5);
  const layersNeeded = visionLayersNeeded(config);
  for (let layer = 0; layer < layersNeeded; layer++) {
    const prefix = `${tower}encoder.layers.${layer}.`;
    const residual = hidden;
    const normed = layerNorm(
      graph,
      hidden,
      planner.tensor(`${prefix}layer_norm1.weight`),
      planner.tensor(`${prefix}layer_norm1.bias`),
      vision.layerNormEps,
    );
    const project = (name: string) =>
      planner.linear(normed, `${prefix}self_attn.${name}.weight`, `${prefix}self_attn.${name}.bias`);
    const query = graph.op('Transpose', [graph.op('Reshape', [project('q_proj'), headShape])], { perm: [0, 2, 1, 3] });
    const key = graph.op('Transpose', [graph.op('Reshape', [project('k_proj'), headShape])], { perm: [0, 2, 3, 1] });
    const value = graph.op('Transpose', [graph.op('Reshape', [project('v_proj'), headShape])], { perm: [0, 2, 1, 3] });
    const scores = graph.op('Mul', [graph.op('MatMul', [query, key]), scaleTyped]);
    const context = graph.op('MatMul', [softmax(graph, scores, type), value]);
    const merged = graph.op('Reshape', [graph.op('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeShape]);
    hidden = graph.op('Add', [
      residual,
      planner.linear(merged, `${prefix}self_attn.out_proj.weight`, `${prefix}self_attn.out_proj.bias`),
    ]);
    const residual2 = hidden;
    const normed2 = layerNorm(
      graph,
      hidden,
      planner.tensor(`${prefix}layer_norm2.weight`),
      planner.tensor(`${prefix}layer_norm2.bias`),
      vision.layerNormEps,
    );
    const up = activation(
      graph,
      planner.linear(normed2, `${prefix}mlp.fc1.weight`, `${prefix}mlp.fc1.bias`),
      vision.hiddenAct,
      type,
      'vision_config.hidden_act',
    );
    hidden = graph.op('Add', [residual2, planner.linear(up, `${prefix}mlp.fc2.weight`, `${prefix}mlp.fc2.bias`)]);
    hiddenStates.push(hidden);
  }

  let selected = indices.map((index) => hiddenStates[index]!);
  if (input === 'image' && config.visionFeatureSelectStrategy === 'default') {
    selected = selected.map((state) =>
      graph.op('Slice', [
        state,
        graph.constant('int64', [1]),
        graph.constant('int64', [2 ** 53 - 1]),
        graph.constant('int64', [1]),
      ]),
    );
  }
  const features = selected.length === 1 ? selected[0]! : graph.op('Concat', selected, { axis: -1 });
  const bias = (name: string) =>
    config.multimodalProjectorBias ? `model.multi_modal_projector.${name}.bias` : undefined;
  const projected = planner.linear(
    activation(
      graph,
      planner.linear(features, 'model.multi_modal_projector.linear_1.weight', bias('linear_1')),
      config.projectorHiddenAct,
      type,
      'projector_hidden_act',
    ),
    'model.multi_modal_projector.linear_2.weight',
    bias('linear_2'),
  );
  const textWidth = config.textConfig.hiddenSize;
  const result = castTo(graph, projected, type, 'float32');
  if (input === 'image') {
    graph.output(result, 'float32', ['num_images', 'image_sequence_length', textWidth], 'image_features');
  } else {
    const videoShape = graph.op(
      'Concat',
      [graph.op('Shape', ['pixel_values_videos'], { end: 1 }), graph.constant('int64', [-1, textWidth])],
      { axis: 0 },
    );
    graph.output(
      graph.op('Reshape', [result, videoShape]),
      'float32',
      ['batch_size', 'video_sequence_length', textWidth],
      'video_features',
    );
  }
}
