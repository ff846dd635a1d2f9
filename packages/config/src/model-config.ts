import { FieldReader, asJsonObject } from './field-reader.js';
import type { RopeParameters, TextConfig, VideoLlavaConfig, VisionConfig } from './types.js';

const SUPPORTED_ROPE_TYPES = ['default', 'linear'] as const;
const SUPPORTED_TEXT_MODEL_TYPES = ['llama'] as const;
const SUPPORTED_VISION_MODEL_TYPES = ['clip_vision_model'] as const;
const STORED_DTYPES = ['float32', 'float16', 'bfloat16'] as const;

function parseRope(text: FieldReader): RopeParameters {
  // v5: rope_parameters { rope_type, rope_theta, factor? }.
  // v4: rope_theta at the top of text_config; rope_scaling { rope_type (or the older "type"), factor } or null.
  const v5 = text.object('rope_parameters');
  const scaling = text.object('rope_scaling');
  let ropeTheta = text.number('rope_theta', 10000, { above: 0 });
  if (v5) ropeTheta = v5.number('rope_theta', ropeTheta, { above: 0 });
  // transformers rotates only the first head_dim * partial_rotary_factor dimensions (config attribute or, in v5,
  // a rope_parameters entry); the graphs rotate all of them, so anything but 1 is refused rather than mis-converted.
  for (const reader of [text, v5, scaling]) {
    if (reader?.has('partial_rotary_factor') && reader.number('partial_rotary_factor', 1) !== 1) {
      reader.unsupported(
        'partial_rotary_factor',
        '1 (rotary embeddings on every dimension of a head)',
        reader.json['partial_rotary_factor'],
      );
    }
  }
  const source = scaling ?? v5;
  if (!source) return { ropeType: 'default', ropeTheta, factor: 1 };
  const typeField = source.has('rope_type') || !source.has('type') ? 'rope_type' : 'type';
  const ropeType = source.string(typeField, 'default');
  if (!(SUPPORTED_ROPE_TYPES as readonly string[]).includes(ropeType)) {
    source.unsupported(
      typeField,
      `one of ${SUPPORTED_ROPE_TYPES.map((type) => JSON.stringify(type)).join(', ')} (other rotary scalings are not implemented)`,
      ropeType,
    );
  }
  if (ropeType === 'linear' && !source.has('factor'))
    source.fail('factor', 'a number >= 1 (linear rope scaling needs a factor)', source.json['factor']);
  const factor = ropeType === 'linear' ? source.number('factor', 1, { min: 1 }) : 1;
  return { ropeType, ropeTheta, factor };
}

function parseTextConfig(text: FieldReader, root: FieldReader): TextConfig {
  const modelType = text.string('model_type', 'llama');
  if (!(SUPPORTED_TEXT_MODEL_TYPES as readonly string[]).includes(modelType)) {
    text.unsupported(
      'model_type',
      `one of ${SUPPORTED_TEXT_MODEL_TYPES.map((type) => JSON.stringify(type)).join(', ')} (the language model Video-LLaVA uses)`,
      modelType,
    );
  }
  const hiddenSize = text.positiveInteger('hidden_size', 4096);
  const numAttentionHeads = text.positiveInteger('num_attention_heads', 32);
  const numKeyValueHeads = text.positiveInteger('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    text.fail('num_key_value_heads', `a divisor of num_attention_heads (${numAttentionHeads})`, numKeyValueHeads);
  }
  const headDimDefault = Math.floor(hiddenSize / numAttentionHeads);
  if (!text.has('head_dim') && hiddenSize % numAttentionHeads !== 0) {
    text.fail(
      'hidden_size',
      `a multiple of num_attention_heads (${numAttentionHeads}) when head_dim is not given`,
      hiddenSize,
    );
  }
  const headDim = text.positiveInteger('head_dim', headDimDefault);
  if (headDim % 2 !== 0) text.fail('head_dim', 'an even number (rotary embeddings rotate pairs)', headDim);
  const hiddenAct = text.string('hidden_act', 'silu');
  return {
    modelType,
    vocabSize: text.positiveInteger('vocab_size', 32000),
    hiddenSize,
    intermediateSize: text.positiveInteger('intermediate_size', 11008),
    numHiddenLayers: text.positiveInteger('num_hidden_layers', 32),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    hiddenAct,
    maxPositionEmbeddings: text.positiveInteger('max_position_embeddings', 2048),
    rmsNormEps: text.number('rms_norm_eps', 1e-6, { above: 0 }),
    rope: parseRope(text),
    attentionBias: text.boolean('attention_bias', false),
    mlpBias: text.boolean('mlp_bias', false),
    tieWordEmbeddings: text.boolean('tie_word_embeddings', root.boolean('tie_word_embeddings', false)),
    // LlamaConfig defaults to bos 1 / eos 2; an explicit null in the file means "none".
    bosTokenId: text.json['bos_token_id'] === null ? null : (text.optionalInteger('bos_token_id', { min: 0 }) ?? 1),
    eosTokenId: text.json['eos_token_id'] === null ? [] : text.integerList('eos_token_id', [2]),
    padTokenId: text.optionalInteger('pad_token_id'),
  };
}

/** CLIPVisionConfig's own defaults (ViT-B/32), used for fields a present `vision_config` leaves out. */
const CLIP_VISION_DEFAULTS = {
  hiddenSize: 768,
  intermediateSize: 3072,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  imageSize: 224,
  patchSize: 32,
  projectionDim: 512,
};
/** What VideoLlavaConfig builds when `vision_config` is absent altogether: CLIP ViT-L/14 at 224 px. */
const VIDEO_LLAVA_VISION_DEFAULTS = {
  hiddenSize: 1024,
  intermediateSize: 4096,
  numHiddenLayers: 24,
  numAttentionHeads: 16,
  imageSize: 224,
  patchSize: 14,
  projectionDim: 768,
};

function parseVisionConfig(vision: FieldReader, present: boolean): VisionConfig {
  const modelType = vision.string('model_type', 'clip_vision_model');
  if (!(SUPPORTED_VISION_MODEL_TYPES as readonly string[]).includes(modelType)) {
    vision.unsupported(
      'model_type',
      `one of ${SUPPORTED_VISION_MODEL_TYPES.map((type) => JSON.stringify(type)).join(', ')} (the vision tower Video-LLaVA uses)`,
      modelType,
    );
  }
  // transformers: a vision_config dict becomes CLIPVisionConfig(**dict), so its missing fields take CLIP's
  // defaults; only a config without vision_config gets VideoLlavaConfig's ViT-L/14.
  const defaults = present ? CLIP_VISION_DEFAULTS : VIDEO_LLAVA_VISION_DEFAULTS;
  const hiddenSize = vision.positiveInteger('hidden_size', defaults.hiddenSize);
  const numAttentionHeads = vision.positiveInteger('num_attention_heads', defaults.numAttentionHeads);
  if (hiddenSize % numAttentionHeads !== 0)
    vision.fail('hidden_size', `a multiple of num_attention_heads (${numAttentionHeads})`, hiddenSize);
  const imageSize = vision.positiveInteger('image_size', defaults.imageSize);
  const patchSize = vision.positiveInteger('patch_size', defaults.patchSize);
  if (patchSize > imageSize) vision.fail('patch_size', `at most image_size (${imageSize})`, patchSize);
  return {
    modelType,
    hiddenSize,
    intermediateSize: vision.positiveInteger('intermediate_size', defaults.intermediateSize),
    numHiddenLayers: vision.positiveInteger('num_hidden_layers', defaults.numHiddenLayers),
    numAttentionHeads,
    headDim: hiddenSize / numAttentionHeads,
    numChannels: vision.positiveInteger('num_channels', 3),
    imageSize,
    patchSize,
    hiddenAct: vision.string('hidden_act', 'quick_gelu'),
    layerNormEps: vision.number('layer_norm_eps', 1e-5, { above: 0 }),
    projectionDim: vision.positiveInteger('projection_dim', defaults.projectionDim),
  };
}

function parseFeatureLayer(root: FieldReader, numLayers: number): number | number[] {
  const value = root.json['vision_feature_layer'];
  const range = `an integer from ${-(numLayers + 1)} to ${numLayers} (the vision tower has ${numLayers} layers, so ${numLayers + 1} hidden states)`;
  const check = (layer: unknown): number => {
    if (typeof layer !== 'number' || !Number.isInteger(layer) || layer < -(numLayers + 1) || layer > numLayers) {
      root.fail('vision_feature_layer', `${range}, or a list of them`, value);
    }
    return layer;
  };
  if (value === undefined || value === null) return check(-2);
  if (Array.isArray(value)) {
    if (value.length === 0) root.fail('vision_feature_layer', 'a non-empty list', value);
    return value.map(check);
  }
  return check(value);
}

/**
 * Validates a parsed `config.json` of a Video-LLaVA checkpoint and fills transformers' defaults.
 * Accepts both the transformers v4 spellings (`rope_theta`, `rope_scaling`, `torch_dtype`) and the v5 ones
 * (`rope_parameters`, `dtype`).
 *
 * @param json the parsed JSON
 * @param file where it came from, for error messages
 * @throws VideoLlavaError `INVALID_CONFIG` naming the file and field (wrong type, out of range, missing `model_type`);
 *   `UNSUPPORTED` for another `model_type`, a text model other than LLaMA, a vision tower other than CLIP, or rope
 *   scaling other than `default`/`linear` or a `partial_rotary_factor` other than 1
 */
export function parseModelConfig(json: unknown, file = 'config.json'): VideoLlavaConfig {
  const root = new FieldReader(asJsonObject(json, file), file);
  if (!root.has('model_type')) root.fail('model_type', '"video_llava"', root.json['model_type']);
  const modelType = root.string('model_type', '');
  if (modelType !== 'video_llava')
    root.unsupported('model_type', '"video_llava" (a VideoLlavaForConditionalGeneration checkpoint)', modelType);
  const text = root.object('text_config') ?? new FieldReader({}, file, 'text_config');
  const visionPresent = root.has('vision_config');
  const vision = root.object('vision_config') ?? new FieldReader({}, file, 'vision_config');
  const textConfig = parseTextConfig(text, root);
  const visionConfig = parseVisionConfig(vision, visionPresent);
  const dtypeField = root.has('dtype') ? 'dtype' : 'torch_dtype';
  const storedDtype = root.oneOf(dtypeField, STORED_DTYPES, 'float32');
  // v5 configs may spell the ids image_token_id / video_token_id (attribute aliases of the *_index fields).
  const imageTokenField =
    root.has('image_token_index') || !root.has('image_token_id') ? 'image_token_index' : 'image_token_id';
  const videoTokenField =
    root.has('video_token_index') || !root.has('video_token_id') ? 'video_token_index' : 'video_token_id';
  const tokenRange = { min: 0, max: textConfig.vocabSize - 1 };
  const imageTokenIndex = root.integer(imageTokenField, 32000, tokenRange);
  const videoTokenIndex = root.integer(videoTokenField, 32001, tokenRange);
  if (imageTokenIndex === videoTokenIndex)
    root.fail(videoTokenField, `an id different from ${imageTokenField} (${imageTokenIndex})`, videoTokenIndex);
  return {
    modelType: 'video_llava',
    textConfig,
    visionConfig,
    imageTokenIndex,
    videoTokenIndex,
    projectorHiddenAct: root.string('projector_hidden_act', 'gelu'),
    multimodalProjectorBias: root.boolean('multimodal_projector_bias', true),
    visionFeatureLayer: parseFeatureLayer(root, visionConfig.numHiddenLayers),
    visionFeatureSelectStrategy: root.oneOf('vision_feature_select_strategy', ['default', 'full'] as const, 'default'),
    imageSeqLength: root.positiveInteger('image_seq_length', 256),
    videoSeqLength: root.positiveInteger('video_seq_length', 2056),
    ignoreIndex: root.integer('ignore_index', -100),
    tieWordEmbeddings: textConfig.tieWordEmbeddings,
    storedDtype,
    raw: root.json,
  };
}
